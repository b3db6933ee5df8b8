/**
 * An in-memory Temporal server for tests and for trying the engine out offline.
 *
 * It serves Temporal's gRPC API (WorkflowService, the test service's time-skipping calls, and the
 * search-attribute part of OperatorService) on a loopback port, so the unmodified SDK connects to
 * it as to a real server. It keeps nothing across restarts. See temporal-server/README.md.
 */
import * as grpc from '@grpc/grpc-js';
import { VirtualClock } from './clock';
import type { WorkflowTimerSlack } from './clock';
import { Engine } from './engine';
import { addProtobufService } from './grpc-server';
import { operatorServiceHandlers } from './operator-service';
import { TaskQueues } from './task-queues';
import { testServiceHandlers } from './test-service';
import { workflowServiceHandlers } from './workflow-service';

export interface InMemoryTemporalServerOptions {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Time-skipping as the official test server does it (default true). False: real time only. */
  timeSkipping?: boolean;
  /** Timers due within this many ms of a time-skipping jump fire at its instant (default 0; clock.ts). */
  timerSlackMs?: number;
  /** Workflows' own timers may fire later in proportion to their length (default none; clock.ts). */
  workflowTimerSlack?: WorkflowTimerSlack;
  /** How long an idle long poll waits before answering empty (default 20 s). */
  longPollMs?: number;
  logger?: { warn(message: string): void };
}

export interface InMemoryTemporalServer {
  /** host:port to give the SDK's connections. */
  address: string;
  engine: Engine;
  shutdown(): Promise<void>;
}

export async function startInMemoryTemporalServer(
  options: InMemoryTemporalServerOptions = {},
): Promise<InMemoryTemporalServer> {
  const logger = options.logger ?? { warn: (message: string) => console.warn(`[temporal-in-memory] ${message}`) };
  const longPollMs = options.longPollMs ?? 20_000;
  const clock = new VirtualClock({ timeSkipping: options.timeSkipping ?? true, slackMs: options.timerSlackMs, workflowTimerSlack: options.workflowTimerSlack });
  const engine = new Engine(clock, new TaskQueues(longPollMs), logger);

  const server = new grpc.Server({ 'grpc.max_receive_message_length': 128 * 1024 * 1024 });
  addProtobufService(server, 'temporal.api.workflowservice.v1.WorkflowService', workflowServiceHandlers(engine, { longPollMs }), logger);
  addProtobufService(server, 'temporal.api.testservice.v1.TestService', testServiceHandlers(clock), logger);
  addProtobufService(server, 'temporal.api.operatorservice.v1.OperatorService', operatorServiceHandlers(engine.searchAttributes), logger);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );

  return {
    address: `127.0.0.1:${port}`,
    engine,
    shutdown: async () => {
      clock.stop();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      server.forceShutdown();
    },
  };
}
