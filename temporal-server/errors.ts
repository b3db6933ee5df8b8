/**
 * Errors the server answers with, carrying the gRPC status code a real Temporal frontend uses,
 * so SDK clients turn them into the same typed errors (WorkflowNotFoundError,
 * WorkflowExecutionAlreadyStartedError, ...). Details travel as google.rpc.Status in the
 * `grpc-status-details-bin` trailer, as Temporal's server sends them.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { messageType, packAny } from './proto';

export class ServiceError extends Error {
  constructor(
    readonly code: GrpcStatus,
    message: string,
    readonly detail?: { typeName: string; message: object },
  ) {
    super(message);
  }

  /** google.rpc.Status bytes for the details trailer, or undefined when there are no details. */
  statusDetailsBin(): Buffer | undefined {
    if (!this.detail) return undefined;
    const status = messageType('google.rpc.Status').encode({
      code: this.code,
      message: this.message,
      details: [packAny(this.detail.typeName, this.detail.message)],
    });
    return Buffer.from(status.finish());
  }
}

export const notFound = (message: string) =>
  new ServiceError(GrpcStatus.NOT_FOUND, message, {
    typeName: 'temporal.api.errordetails.v1.NotFoundFailure',
    message: {},
  });

export const invalidArgument = (message: string) => new ServiceError(GrpcStatus.INVALID_ARGUMENT, message);

export const failedPrecondition = (message: string) => new ServiceError(GrpcStatus.FAILED_PRECONDITION, message);

export const alreadyStarted = (message: string, startRequestId: string, runId: string) =>
  new ServiceError(GrpcStatus.ALREADY_EXISTS, message, {
    typeName: 'temporal.api.errordetails.v1.WorkflowExecutionAlreadyStartedFailure',
    message: { startRequestId, runId },
  });

/**
 * ExecuteMultiOperation's answer when its start cannot run: the start's status, then the update's
 * "aborted", in a MultiOperationExecutionFailure; the call's code is the start's, as Temporal sends it.
 */
export function multiOperationStartFailed(startError: ServiceError): ServiceError {
  const startStatus = {
    code: startError.code,
    message: startError.message,
    details: startError.detail ? [packAny(startError.detail.typeName, startError.detail.message)] : [],
  };
  const aborted = {
    code: GrpcStatus.ABORTED,
    message: 'Operation was aborted.',
    details: [packAny('temporal.api.failure.v1.MultiOperationExecutionAborted', {})],
  };
  return new ServiceError(startError.code, `MultiOperation could not be executed: Start failed: ${startError.message}`, {
    typeName: 'temporal.api.errordetails.v1.MultiOperationExecutionFailure',
    message: { statuses: [startStatus, aborted] },
  });
}

export const unimplemented = (method: string) =>
  new ServiceError(GrpcStatus.UNIMPLEMENTED, `${method} is not implemented by the in-memory test server`);

/** Guards for request fields: a malformed request is INVALID_ARGUMENT, never a crash. */
export function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalidArgument(`${field} is not set on request.`);
  return value;
}
