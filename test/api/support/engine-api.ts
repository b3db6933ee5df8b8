// The whole engine (test/support/engine.ts) with the REST API listening over it, for one test file.
// useEngineApi() registers the hooks such a file needs: start both (beforeAll); the money invariant
// after every test; at the end every history the tests fetched replays against today's code, then
// the API and the engine stop.
//
//   const ctx = useEngineApi();
//   it('...', async () => { await request(ctx.server).post('/orders').set(bearer(key)) ... ctx.engine ... });
import type { Server } from 'node:http';
import pino from 'pino';
import { createApp } from '../../../api/app';
import { generateApiKey } from '../../../api/auth';
import type { Role } from '../../../api/auth';
import type { TestEngine, TestEngineOptions } from '../../support/engine';
import { useTestEngine } from '../../support/use-test-engine';

export interface EngineApi {
  /** Set once the file's first beforeAll ran. */
  engine: TestEngine;
  server: Server;
  /** A key of this role for the user (a new user when none is given). */
  keyFor(role?: Role, userId?: number): Promise<{ userId: number; key: string; apiKeyId: number }>;
}

export function useEngineApi(options: TestEngineOptions = {}): EngineApi {
  const ctx = {
    async keyFor(role: Role = 'user', userId?: number) {
      const owner = userId ?? (await ctx.engine.newUser());
      const { key, keyHash, keyPrefix } = generateApiKey();
      const row = await ctx.engine.prisma.apiKey.create({ data: { userId: owner, keyHash, keyPrefix, role } });
      return { userId: owner, key, apiKeyId: row.id };
    },
  } as EngineApi;
  useTestEngine((engine) => {
    ctx.engine = engine;
    ctx.server = createApp({ ...engine.deps, logger: pino({ level: 'silent' }) }).listen(0);
  }, {
    ...options,
    // The API stops before the engine does.
    beforeReplay: () => new Promise((resolve) => ctx.server?.close(() => resolve())),
  });
  return ctx;
}
