/**
 * temporal.api.operatorservice.v1.OperatorService: custom search attribute registration, so the
 * engine can register its attributes the same way on this server and on a real one.
 */
import { enums } from './proto';
import type { Handlers } from './grpc-server';

const SYSTEM_ATTRIBUTES: Record<string, number> = {
  WorkflowId: enums.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  RunId: enums.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  WorkflowType: enums.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  ExecutionStatus: enums.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  TaskQueue: enums.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  StartTime: enums.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  CloseTime: enums.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  ExecutionTime: enums.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

export function operatorServiceHandlers(): Handlers {
  const custom = new Map<string, number>();
  return {
    AddSearchAttributes: async (request) => {
      for (const [name, type] of Object.entries(request.searchAttributes ?? {})) custom.set(name, type as number);
      return {};
    },
    ListSearchAttributes: async () => ({
      customAttributes: Object.fromEntries(custom),
      systemAttributes: SYSTEM_ATTRIBUTES,
      storageSchema: {},
    }),
  };
}
