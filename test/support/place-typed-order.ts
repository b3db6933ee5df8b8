// Places an order of a type the engine's placeOrder() does not build (drip-feed, schedule): the
// service's snapshot as the API takes it (buildOrderInput), then the type's fields over it, then
// update-with-start; the placement must be accepted.
import { buildOrderInput, reserveOrderId, startOrder } from '../../worker/order-client';
import type { OrderInput } from '../../workflows/order-contract';
import type { TestEngine } from './engine';

export interface TypedOrderRequest {
  userId: number;
  link: string;
  quantity: number;
  /** Default: the seed's followers service. */
  serviceId?: number;
  extra: Partial<OrderInput>;
}

export async function placeTypedOrder(engine: TestEngine, request: TypedOrderRequest): Promise<{ orderId: number; input: OrderInput }> {
  const orderId = await reserveOrderId(engine.prisma);
  const input = await buildOrderInput(engine.prisma, orderId, {
    userId: request.userId,
    serviceId: request.serviceId ?? engine.seed.serviceIds.followers,
    link: request.link,
    quantity: request.quantity,
    placedAt: await engine.temporal.env.currentTimeMs(),
  });
  Object.assign(input, { serviceType: 'default' }, request.extra);
  expect(await startOrder(engine.client, input)).toMatchObject({ accepted: true });
  return { orderId, input };
}
