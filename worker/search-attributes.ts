/**
 * Registers the order search attributes on the Temporal server. Every Temporal server refuses a
 * start or an upsert that names an undefined search attribute (INVALID_ARGUMENT "search attribute
 * OrderStatus is not defined"), so without them no order can start.
 *
 * Already registered is fine. A server that cannot list them (Temporal's own test server answers
 * UNIMPLEMENTED to ListSearchAttributes) gets each one added on its own, "already exists" counting
 * as registered. A server that refuses registration (Temporal Cloud without the permission) gets a
 * warning: the attributes must then be created by whoever administers the namespace.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ORDER_SEARCH_ATTRIBUTES } from '../workflows/order-search-attributes';

type OperatorService = Pick<Client['connection']['operatorService'], 'listSearchAttributes' | 'addSearchAttributes'>;

export async function registerOrderSearchAttributes(
  client: { connection: { operatorService: OperatorService } },
  namespace = 'default',
  warn: (message: string) => void = (message) => console.warn(message),
): Promise<void> {
  const operator = client.connection.operatorService;
  const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
  const wanted = ORDER_SEARCH_ATTRIBUTES.map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]] as const);
  try {
    const existing = await listCustomAttributes(operator, namespace);
    const missing = wanted.filter(([name]) => !existing || !(name in existing));
    // One call per attribute: a server that answers ALREADY_EXISTS refuses the whole call.
    for (const [name, type] of missing) await addOne(operator, namespace, name, type);
  } catch (error) {
    warn(
      `order search attributes not registered (${(error as Error).message}): the server will refuse every order start ` +
        `until ${wanted.map(([name]) => name).join(', ')} are created in namespace ${namespace}`,
    );
  }
}

/** The namespace's custom attributes, or null when the server cannot list them. */
async function listCustomAttributes(operator: OperatorService, namespace: string): Promise<Record<string, unknown> | null> {
  try {
    return (await operator.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (error) {
    if ((error as { code?: number }).code === GrpcStatus.UNIMPLEMENTED) return null;
    throw error;
  }
}

async function addOne(operator: OperatorService, namespace: string, name: string, type: number): Promise<void> {
  try {
    await operator.addSearchAttributes({ namespace, searchAttributes: { [name]: type } });
  } catch (error) {
    // ALREADY_EXISTS on current servers; older ones said it with INVALID_ARGUMENT.
    const { code, message } = error as { code?: number; message?: string };
    if (code === GrpcStatus.ALREADY_EXISTS || /already exists/i.test(message ?? '')) return;
    throw error;
  }
}
