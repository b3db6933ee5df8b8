/**
 * The Temporal API as protobuf reflection: message types for encoding and decoding on the wire,
 * and the enums (as plain numbers) that the rest of the server uses by name.
 *
 * The reflection root ships with @temporalio/proto, built from the same .proto files that the SDK's
 * Rust core uses (node_modules/@temporalio/core-bridge/sdk-core/crates/protos/), so the server and the
 * SDK agree on every field.
 */
import type { Root, Type } from 'protobufjs';
import { temporal, google } from '@temporalio/proto';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const protoRoot: Root = require('@temporalio/proto/protos/root.js');

const typeCache = new Map<string, Type>();
export function messageType(fullName: string): Type {
  let type = typeCache.get(fullName);
  if (!type) {
    type = protoRoot.lookupType(fullName);
    typeCache.set(fullName, type);
  }
  return type;
}

export const enums = temporal.api.enums.v1;
export const EventType = enums.EventType;
export const CommandType = enums.CommandType;
export const WorkflowExecutionStatus = enums.WorkflowExecutionStatus;
export const RetryState = enums.RetryState;
export const TimeoutType = enums.TimeoutType;
export const TaskQueueKind = enums.TaskQueueKind;
export const UpdateStage = enums.UpdateWorkflowExecutionLifecycleStage;

export type Payload = temporal.api.common.v1.IPayload;
export type Payloads = temporal.api.common.v1.IPayloads;
export type Failure = temporal.api.failure.v1.IFailure;
export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
export type Command = temporal.api.command.v1.ICommand;
export type RetryPolicy = temporal.api.common.v1.IRetryPolicy;
/** Timestamps and durations as we write them (numbers); decoded ones may carry Longs. */
export type Timestamp = { seconds: number; nanos: number };
export type Duration = { seconds: number; nanos: number };
type WireTime = google.protobuf.ITimestamp | google.protobuf.IDuration;
export type ProtocolMessage = temporal.api.protocol.v1.IMessage;
export { temporal, google };

/** int64 fields decode as Long objects; every numeric field we read goes through this. */
export function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Number(value);
  const long = value as { toNumber?: () => number };
  return long.toNumber ? long.toNumber() : Number(value);
}

export function durationToMs(duration: WireTime | null | undefined): number {
  if (!duration) return 0;
  return toNumber(duration.seconds) * 1000 + Math.floor((duration.nanos ?? 0) / 1e6);
}

export function msToDuration(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
}

export function msToTimestamp(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1e6 };
}

export function timestampToMs(ts: WireTime | null | undefined): number {
  if (!ts) return 0;
  return toNumber(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/** Wraps a message in google.protobuf.Any, as protocol messages (updates) travel. */
export function packAny(typeName: string, message: object): google.protobuf.IAny {
  return {
    type_url: `type.googleapis.com/${typeName}`,
    value: messageType(typeName).encode(message).finish(),
  };
}

export function unpackAny<T>(any: google.protobuf.IAny | null | undefined): { typeName: string; message: T } {
  if (!any?.type_url) throw new Error('empty Any');
  const typeName = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
  return { typeName, message: messageType(typeName).decode(any.value ?? new Uint8Array()) as unknown as T };
}
