/**
 * Matching: task queues that hand tasks to long-polling workers.
 *
 * A queued task is a function that starts the task at the moment a poller takes it (recording
 * WorkflowTaskStarted, say) and returns the poll response, or null when the task went stale in
 * the meantime (its workflow was terminated, its activity canceled). A poller whose call was
 * cancelled is skipped, so no task is ever handed to a worker that has gone away.
 */
import type { CallContext } from './grpc-server';

export type StartTask = () => object | null;

interface Poller {
  alive(): boolean;
  deliver(response: object): void;
}

class TaskQueue {
  readonly tasks: StartTask[] = [];
  readonly pollers: Poller[] = [];
  lastPollAt = 0;
}

export class TaskQueues {
  private readonly queues = new Map<string, TaskQueue>();

  constructor(private readonly longPollMs: number) {}

  private queue(name: string): TaskQueue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new TaskQueue();
      this.queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Queues a task. It is handed out on the next turn of the event loop, not at once, so the
   * request that created it finishes first (an update-with-start admits its update before the
   * first workflow task leaves), as Temporal's history service hands tasks to matching later.
   */
  add(name: string, task: StartTask): void {
    const queue = this.queue(name);
    queue.tasks.push(task);
    setImmediate(() => this.match(queue));
  }

  private match(queue: TaskQueue): void {
    while (queue.tasks.length > 0) {
      const poller = queue.pollers.find((candidate) => candidate.alive());
      if (!poller) return;
      queue.pollers.splice(queue.pollers.indexOf(poller), 1);
      const response = queue.tasks.shift()!();
      if (response !== null) poller.deliver(response);
      else queue.pollers.unshift(poller);
    }
  }

  /** Long-polls `name`; resolves with a task's poll response, or with `empty` after the poll timeout. */
  poll(name: string, context: CallContext, empty: object): Promise<object> {
    const queue = this.queue(name);
    queue.lastPollAt = Date.now();
    while (queue.tasks.length > 0) {
      const response = queue.tasks.shift()!();
      if (response !== null) return Promise.resolve(response);
    }
    return new Promise((resolve) => {
      let done = false;
      const finish = (response: object) => {
        if (done) return;
        done = true;
        clearTimeout(timeout);
        const index = queue.pollers.indexOf(poller);
        if (index >= 0) queue.pollers.splice(index, 1);
        resolve(response);
      };
      const poller: Poller = {
        alive: () => !done && !context.isCancelled(),
        deliver: (response) => void finish(response),
      };
      const timeout = setTimeout(() => finish(empty), this.longPollMs);
      context.cancelled.then(() => finish(empty));
      queue.pollers.push(poller);
    });
  }

  hasRecentPoller(name: string, withinMs: number): boolean {
    const queue = this.queues.get(name);
    return !!queue && (queue.pollers.some((poller) => poller.alive()) || Date.now() - queue.lastPollAt < withinMs);
  }

  /** Answers every waiting poller of the queue with `empty` (a worker shutting down). */
  releasePollers(name: string, empty: object): void {
    const queue = this.queues.get(name);
    if (!queue) return;
    for (const poller of queue.pollers.splice(0)) poller.deliver(empty);
  }
}
