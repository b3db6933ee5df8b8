// What a process has started, to stop it again in reverse order.

export interface Stoppable {
  stop(): Promise<void>;
}

/** The parts a process has started, stopped last-first by stopAll() (once, however often called). */
export class Parts {
  private readonly started: Array<{ name: string } & Stoppable> = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly log: (line: string) => void) {}

  add<T extends Stoppable>(name: string, part: T): T {
    this.started.push({ name, stop: () => part.stop() });
    return part;
  }

  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      const errors: unknown[] = [];
      for (const part of [...this.started].reverse()) {
        try {
          await part.stop();
          this.log(`stopped ${part.name}`);
        } catch (error) {
          errors.push(error);
          this.log(`stopping ${part.name} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (errors.length > 0) throw new AggregateError(errors, `${errors.length} part(s) did not stop cleanly`);
    })();
    return this.stopping;
  }

  /** Runs `start`; if it fails, stops whatever it had started, then rethrows. */
  async starting<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (error) {
      await this.stopAll().catch(() => undefined);
      throw error;
    }
  }
}
