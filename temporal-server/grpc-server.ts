/**
 * Serves protobuf services described by the reflection root over @grpc/grpc-js.
 *
 * Each RPC is a plain async function from a decoded request to a response object; this file does
 * the wire work (encode/decode, cancellation, error statuses) so the handlers stay about Temporal.
 * Methods without a handler answer UNIMPLEMENTED, as a real server does for RPCs it lacks.
 */
import * as grpc from '@grpc/grpc-js';
import type { Method, Service } from 'protobufjs';
import { ServiceError, unimplemented } from './errors';
import { protoRoot } from './proto';

/** What a handler learns about the call beyond its request. */
export interface CallContext {
  /** Resolves when the client cancels the call or its deadline passes. */
  cancelled: Promise<void>;
  isCancelled(): boolean;
}

export type Handler = (request: any, context: CallContext) => Promise<object>;
export type Handlers = Record<string, Handler>;

export interface ServerLogger {
  warn(message: string): void;
}

export function addProtobufService(
  server: grpc.Server,
  serviceName: string,
  handlers: Handlers,
  logger: ServerLogger,
): void {
  const service = protoRoot.lookupService(serviceName) as Service;
  const definition: Record<string, grpc.MethodDefinition<object, object>> = {};
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of Object.values(service.methods) as Method[]) {
    method.resolve();
    const requestType = method.resolvedRequestType!;
    const responseType = method.resolvedResponseType!;
    definition[method.name] = {
      path: `/${serviceName}/${method.name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (message: object) => Buffer.from(requestType.encode(message).finish()),
      requestDeserialize: (bytes: Buffer) => requestType.decode(bytes),
      responseSerialize: (message: object) => Buffer.from(responseType.encode(message).finish()),
      responseDeserialize: (bytes: Buffer) => responseType.decode(bytes),
    };
    const handler = handlers[method.name];
    implementation[method.name] = (
      call: grpc.ServerUnaryCall<unknown, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const context = contextOf(call);
      const run = handler ? handler(call.request, context) : Promise.reject(unimplemented(method.name));
      run.then(
        (response) => callback(null, response),
        (error: unknown) => callback(toGrpcError(error, method.name, logger)),
      );
    };
  }
  server.addService(definition as grpc.ServiceDefinition, implementation);
}

function contextOf(call: grpc.ServerUnaryCall<unknown, unknown>): CallContext {
  let cancelled = false;
  const cancelledPromise = new Promise<void>((resolve) => {
    call.on('cancelled', () => {
      cancelled = true;
      resolve();
    });
  });
  return { cancelled: cancelledPromise, isCancelled: () => cancelled || call.cancelled };
}

function toGrpcError(error: unknown, method: string, logger: ServerLogger): Partial<grpc.StatusObject> {
  if (error instanceof ServiceError) {
    const metadata = new grpc.Metadata();
    const details = error.statusDetailsBin();
    if (details) metadata.set('grpc-status-details-bin', details);
    return { code: error.code, details: error.message, metadata };
  }
  // A bug in the server must show up as INTERNAL for that call, never take the server down.
  logger.warn(`${method} failed: ${(error as Error)?.stack ?? String(error)}`);
  return { code: grpc.status.INTERNAL, details: `${method}: ${(error as Error)?.message ?? String(error)}` };
}
