/**
 * Registers the order search attributes on the Temporal server, where the server needs it (a real
 * cluster or the dev server; the in-memory server takes any). Already registered is fine; a server
 * that does not offer registration (Temporal's test server, Temporal Cloud without the permission)
 * gets a warning and the engine goes on: its workflows still run, only visibility queries miss.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ORDER_SEARCH_ATTRIBUTES } from '../workflows/order-search-attributes';

export async function registerOrderSearchAttributes(
  client: Client,
  namespace = 'default',
  warn: (message: string) => void = (message) => console.warn(message),
): Promise<void> {
  const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
  const searchAttributes = Object.fromEntries(
    ORDER_SEARCH_ATTRIBUTES.map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]]),
  );
  try {
    const existing = await client.connection.operatorService.listSearchAttributes({ namespace });
    const missing = Object.fromEntries(
      Object.entries(searchAttributes).filter(([name]) => !(name in (existing.customAttributes ?? {}))),
    );
    if (Object.keys(missing).length === 0) return;
    await client.connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (error) {
    const code = (error as { code?: number }).code;
    if (code === GrpcStatus.ALREADY_EXISTS) return;
    warn(`order search attributes not registered (${(error as Error).message}): visibility queries on orders will not work`);
  }
}
