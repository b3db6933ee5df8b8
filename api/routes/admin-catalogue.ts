// /admin/providers and /admin/services: the catalogue (role admin).
// R-PRICE-SNAPSHOT: changing a service never touches existing orders: each order carries its own
// rate, charge, refill terms and cancel flag, copied when it was placed.
import { Router } from 'express';
import type { Prisma } from '../../generated/prisma/client';
import type { ApiDeps } from '../app';
import { audit } from '../audit';
import { caller } from '../auth';
import { ApiError, notFound } from '../errors';
import {
  catalogueListQuery,
  createProviderBody,
  createServiceBody,
  flag,
  parseOr400,
  patchProviderBody,
  patchServiceBody,
  providerIdParam,
  serviceIdParam,
} from '../schemas';
import type { refillSchema } from '../schemas';
import { providerView, serviceView } from '../views';
import type { z } from 'zod';

type Refill = z.infer<typeof refillSchema>;

/** The (refill_kind, refill_days) columns of a refill guarantee. */
function refillColumns(refill: Refill): { refillKind: string; refillDays: number | null } {
  return { refillKind: refill.kind, refillDays: refill.kind === 'days' ? refill.days : null };
}

export function adminCatalogueRouter(deps: ApiDeps): Router {
  const { prisma } = deps;
  const router = Router();

  async function providerById(id: unknown) {
    const parsed = providerIdParam.safeParse(id);
    const provider = parsed.success ? await prisma.provider.findUnique({ where: { id: parsed.data } }) : null;
    if (!provider) throw notFound('provider');
    return provider;
  }

  async function serviceById(id: unknown) {
    const parsed = serviceIdParam.safeParse(id);
    const service = parsed.success ? await prisma.service.findUnique({ where: { id: parsed.data } }) : null;
    if (!service) throw notFound('service');
    return service;
  }

  async function requireProvider(providerId: number): Promise<void> {
    const found = await prisma.provider.findUnique({ where: { id: providerId }, select: { id: true } });
    if (!found) throw new ApiError(422, 'unknown_provider', `provider ${providerId} does not exist`, { field: 'providerId', rule: 'exists' });
  }

  // --- providers ------------------------------------------------------------------------------

  router.get('/providers', async (req, res) => {
    const q = parseOr400(catalogueListQuery.omit({ providerId: true }), req.query, 'query');
    const active = flag(q.active);
    const rows = await prisma.provider.findMany({ where: active === undefined ? {} : { active }, orderBy: { id: 'asc' } });
    res.json({ providers: rows.map(providerView) });
  });

  router.get('/providers/:id', async (req, res) => {
    res.json({ provider: providerView(await providerById(req.params.id)) });
  });

  router.post('/providers', async (req, res) => {
    const body = parseOr400(createProviderBody, req.body ?? {});
    const row = await prisma.provider.create({ data: { ...body, countSourceUrl: body.countSourceUrl ?? null } });
    await audit(prisma, caller(req), { action: 'provider.create', after: providerView(row) });
    res.status(201).location(`/admin/providers/${row.id}`).json({ provider: providerView(row) });
  });

  router.patch('/providers/:id', async (req, res) => {
    const before = await providerById(req.params.id);
    const body = parseOr400(patchProviderBody, req.body ?? {});
    const row = await prisma.provider.update({ where: { id: before.id }, data: body });
    await audit(prisma, caller(req), { action: 'provider.update', before: providerView(before), after: providerView(row) });
    res.json({ provider: providerView(row) });
  });

  // --- services -------------------------------------------------------------------------------

  router.get('/services', async (req, res) => {
    const q = parseOr400(catalogueListQuery, req.query, 'query');
    const active = flag(q.active);
    const where: Prisma.ServiceWhereInput = {};
    if (active !== undefined) where.active = active;
    if (q.providerId !== undefined) where.providerId = q.providerId;
    const rows = await prisma.service.findMany({ where, orderBy: { id: 'asc' } });
    res.json({ services: rows.map(serviceView) });
  });

  router.get('/services/:id', async (req, res) => {
    res.json({ service: serviceView(await serviceById(req.params.id)) });
  });

  router.post('/services', async (req, res) => {
    const { refill, ...body } = parseOr400(createServiceBody, req.body ?? {});
    await requireProvider(body.providerId);
    const row = await prisma.service.create({ data: { ...body, ...refillColumns(refill) } });
    await audit(prisma, caller(req), { action: 'service.create', after: serviceView(row) });
    res.status(201).location(`/admin/services/${row.id}`).json({ service: serviceView(row) });
  });

  router.patch('/services/:id', async (req, res) => {
    const before = await serviceById(req.params.id);
    const { refill, ...body } = parseOr400(patchServiceBody, req.body ?? {});
    // The range must stay sane with the fields not sent (R-MINMAX).
    const min = body.min ?? before.min;
    const max = body.max ?? before.max;
    if (min > max) {
      throw new ApiError(400, 'invalid_request', `max (${max}) must not be below min (${min})`, {
        field: body.max !== undefined ? 'max' : 'min',
        rule: 'R-MINMAX',
      });
    }
    // Drip-feed stays a Default service's option with the fields not sent (the database CHECKs it too).
    const type = body.type ?? before.type;
    const dripfeed = body.type !== undefined && body.type !== 'default' && body.dripfeed === undefined ? 'none' : (body.dripfeed ?? before.dripfeed);
    if (dripfeed !== 'none' && type !== 'default') {
      throw new ApiError(400, 'invalid_request', `dripfeed is offered on Default services only, not on ${type}`, { field: 'dripfeed', rule: 'drip_feed' });
    }
    if (dripfeed !== before.dripfeed) body.dripfeed = dripfeed as typeof body.dripfeed;
    if (body.providerId !== undefined) await requireProvider(body.providerId);
    const data: Prisma.ServiceUncheckedUpdateInput = { ...body, ...(refill ? refillColumns(refill) : {}) };
    const row = await prisma.service.update({ where: { id: before.id }, data });
    await audit(prisma, caller(req), { action: 'service.update', before: serviceView(before), after: serviceView(row) });
    res.json({ service: serviceView(row) });
  });

  return router;
}
