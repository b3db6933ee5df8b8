/**
 * The search attributes a namespace knows: the system ones every server has, and the custom ones
 * registered through OperatorService.AddSearchAttributes.
 *
 * Real Temporal refuses to write a search attribute that is not defined (a start, signal-with-start
 * or update-with-start answers INVALID_ARGUMENT "search attribute X is not defined"; an upsert fails
 * the workflow task with BadSearchAttributes), so this server does too: an engine that forgot to
 * register its attributes fails here as it would in production, not silently.
 */
import { enums } from './proto';
import type { Payload } from './proto';

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

/**
 * Predefined attributes a workflow may write itself: TemporalChangeVersion, which the SDK upserts
 * with each patched() id (real Temporal defines it in every namespace, as a KeywordList).
 */
const PREDEFINED_WRITABLE: Record<string, number> = {
  TemporalChangeVersion: enums.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

export class SearchAttributeRegistry {
  private readonly custom = new Map<string, number>();

  get system(): Record<string, number> {
    return { ...SYSTEM_ATTRIBUTES };
  }

  customAttributes(): Record<string, number> {
    return Object.fromEntries(this.custom);
  }

  isSystem(name: string): boolean {
    return name in SYSTEM_ATTRIBUTES;
  }

  isDefined(name: string): boolean {
    return this.custom.has(name) || name in PREDEFINED_WRITABLE;
  }

  add(name: string, type: number): void {
    this.custom.set(name, type);
  }

  /**
   * Why these fields cannot be written, in the words of Temporal's search attribute validator, or
   * null when they can. (Value types are not checked.)
   */
  refusal(fields: Record<string, Payload> | null | undefined): string | null {
    for (const name of Object.keys(fields ?? {})) {
      if (this.isSystem(name)) return `${name} attribute can't be set in SearchAttributes`;
      if (!this.isDefined(name)) return `search attribute ${name} is not defined`;
    }
    return null;
  }
}
