// Small builders for rows the db tests need. Money as strings, always.
import type { PrismaClient } from '../../generated/prisma/client';
import type { CreateOrderInput } from '../../activities/order-records';

let seq = 0;
const unique = () => `${Date.now().toString(36)}-${++seq}`;

export async function makeUser(prisma: PrismaClient, name = 'user'): Promise<number> {
  const user = await prisma.user.create({ data: { name: `${name}-${unique()}` } });
  return user.id;
}

export async function makeCatalogue(prisma: PrismaClient): Promise<{ providerId: number; serviceId: number }> {
  const provider = await prisma.provider.create({
    data: { name: `provider-${unique()}`, apiUrl: 'http://127.0.0.1:1/api/v2', apiKey: 'secret' },
  });
  const service = await prisma.service.create({
    data: {
      name: 'Instagram followers',
      category: 'Instagram',
      providerId: provider.id,
      providerServiceId: '101',
      rate: '1.20000',
      min: 10,
      max: 100000,
      refillKind: 'days',
      refillDays: 30,
      cancelable: true,
    },
  });
  return { providerId: provider.id, serviceId: service.id };
}

export function orderInput(
  base: { userId: number; providerId: number; serviceId: number },
  overrides: Partial<CreateOrderInput> = {},
): CreateOrderInput {
  const id = unique();
  return {
    workflowId: `order-${id}`,
    userId: base.userId,
    serviceId: base.serviceId,
    providerId: base.providerId,
    link: `https://instagram.com/acct-${id}`,
    linkKey: `instagram.com/acct-${id}`,
    quantity: 1000,
    rate: '1.20000',
    charge: '1.20000',
    refillKind: 'days',
    refillDays: 30,
    cancelable: true,
    ...overrides,
  };
}

/** Insert an order row straight away (status 'new'), returning its id. */
export async function makeOrder(
  prisma: PrismaClient,
  base: { userId: number; providerId: number; serviceId: number },
  overrides: Partial<CreateOrderInput> = {},
): Promise<number> {
  const input = orderInput(base, overrides);
  const order = await prisma.order.create({
    data: {
      workflowId: input.workflowId,
      userId: input.userId,
      serviceId: input.serviceId,
      providerId: input.providerId,
      link: input.link,
      linkKey: input.linkKey,
      quantity: input.quantity,
      rate: input.rate as string,
      charge: input.charge as string,
      refillKind: input.refillKind,
      refillDays: input.refillDays ?? null,
      cancelable: input.cancelable,
    },
  });
  return order.id;
}
