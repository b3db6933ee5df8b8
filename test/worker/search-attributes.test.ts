/**
 * The order search attributes get registered on every kind of server, because every Temporal server
 * refuses an order start that names an undefined one.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { temporal } from '@temporalio/proto';
import { registerOrderSearchAttributes } from '../../worker/search-attributes';
import { ORDER_TASK_QUEUE } from '../../workflows/order-contract';
import { ORDER_SEARCH_ATTRIBUTES, orderSearchAttributes } from '../../workflows/order-search-attributes';
import { initialOrderState } from '../../workflows/order-state';
import { startTestTemporal } from '../support/temporal';

const grpcError = (code: number, message: string) => Object.assign(new Error(`${code} ${message}`), { code, details: message });

/** OperatorService as Temporal's own test server answers it: no List; Add refuses an existing name. */
function officialTestServerOperator(preRegistered: string[]) {
  const registered = new Set(preRegistered);
  const addCalls: string[][] = [];
  return {
    addCalls,
    registered,
    client: {
      connection: {
        operatorService: {
          listSearchAttributes: async () => {
            throw grpcError(GrpcStatus.UNIMPLEMENTED, 'Method not found: ListSearchAttributes');
          },
          addSearchAttributes: async (request: { searchAttributes?: Record<string, number> | null }) => {
            const names = Object.keys(request.searchAttributes ?? {});
            addCalls.push(names);
            const existing = names.find((name) => registered.has(name));
            if (existing) throw grpcError(GrpcStatus.ALREADY_EXISTS, `Search attribute ${existing} already exists.`);
            for (const name of names) registered.add(name);
            return {};
          },
        },
      },
    },
  };
}

it('registers every order attribute with AddSearchAttributes when the server cannot list them, an existing one counting as registered', async () => {
  const names = ORDER_SEARCH_ATTRIBUTES.map((key) => key.name);
  const server = officialTestServerOperator([names[0]]);
  const warnings: string[] = [];
  await registerOrderSearchAttributes(server.client as never, 'default', (message) => warnings.push(message));
  expect(warnings).toEqual([]);
  expect([...server.registered].sort()).toEqual([...names].sort());
  // One attribute per call, so the one that exists does not sink the others.
  expect(server.addCalls).toEqual(names.map((name) => [name]));
});

it('warns that order starts will be refused when the server refuses registration', async () => {
  const refusing = {
    connection: {
      operatorService: {
        listSearchAttributes: async () => ({ customAttributes: {} }),
        addSearchAttributes: async () => {
          throw grpcError(GrpcStatus.PERMISSION_DENIED, 'Request unauthorized.');
        },
      },
    },
  };
  const warnings: string[] = [];
  await registerOrderSearchAttributes(refusing as never, 'default', (message) => warnings.push(message));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/Request unauthorized.*refuse every order start.*OrderStatus/);
});

it('after registration, the server the tests use accepts an order start with every order attribute', async () => {
  const server = await startTestTemporal();
  try {
    const client = server.env.client;
    await registerOrderSearchAttributes(client, client.options.namespace);
    await registerOrderSearchAttributes(client, client.options.namespace); // a second run finds them registered
    const input = { orderId: 987_654, userId: 1, serviceId: 1, providerId: 1, quantity: 100, charge: '1.00000' };
    const handle = await client.workflow.start('orderWorkflow', {
      taskQueue: ORDER_TASK_QUEUE,
      workflowId: `search-attributes-${Date.now()}`,
      typedSearchAttributes: orderSearchAttributes(initialOrderState(input as never)),
    });
    const started = await handle.fetchHistory();
    const fields = started.events![0].workflowExecutionStartedEventAttributes!.searchAttributes!.indexedFields!;
    expect(Object.keys(fields)).toEqual(expect.arrayContaining(['OrderId', 'OrderStatus', 'ProviderId']));
    expect(started.events![0].eventType).toBe(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    await handle.terminate('registration test over');
  } finally {
    await server.teardown();
  }
});
