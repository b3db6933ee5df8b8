/** One line per order workflow found by a visibility query: id, run status, and its search attributes. */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { ORDER_SEARCH_ATTRIBUTES } from '../workflows/order-search-attributes';

export function describeOrderExecution(execution: WorkflowExecutionInfo): string {
  const attributes = ORDER_SEARCH_ATTRIBUTES.map((key) => {
    const value = execution.typedSearchAttributes.get(key as never);
    return value === undefined ? null : `${key.name}=${Array.isArray(value) ? value.join('|') || '-' : String(value)}`;
  }).filter((text): text is string => text !== null);
  return `${execution.workflowId}  ${execution.status.name.padEnd(10)}  ${attributes.join(' ')}`;
}
