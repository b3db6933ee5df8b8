// The hooks every test file over the whole engine needs, registered once: start the engine
// (beforeAll), the money invariant after every test (afterEach), and at the end every history the
// tests fetched replayed against today's workflow code before the engine stops (afterAll).
//
//   let engine: TestEngine;
//   useTestEngine((started) => (engine = started), { providerSync: true });
import { startTestEngine } from './engine';
import type { TestEngine, TestEngineOptions } from './engine';

export interface UseTestEngineOptions extends TestEngineOptions {
  /** Runs before the replay at the end (e.g. fetch the histories of every order the file made). */
  beforeReplay?: (engine: TestEngine) => Promise<void>;
}

export function useTestEngine(onStart: (engine: TestEngine) => void, options: UseTestEngineOptions = {}): void {
  const { beforeReplay, ...engineOptions } = options;
  let engine: TestEngine | undefined;
  beforeAll(async () => {
    engine = await startTestEngine(engineOptions);
    onStart(engine);
  });
  afterEach(async () => {
    await expect(engine!.deps.ledger.checkInvariant()).resolves.toBe(true);
  });
  afterAll(async () => {
    try {
      if (engine) {
        await beforeReplay?.(engine);
        expect(await engine.replayAll()).toBeGreaterThan(0);
      }
    } finally {
      await engine?.shutdown();
    }
  });
}
