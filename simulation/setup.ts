/**
 * The world's first day: an admin key (created in the database, as scripts/create-api-key.ts does),
 * then everything else through the admin API: a support agent, the providers (behind the fault
 * proxy), the catalogue, the users with their keys and opening balances; and the fates' scenarios
 * registered at the provider simulator.
 */
import { generateApiKey } from '../api/auth';
import { BASE_RULES, fateToken } from './fates';
import type { ApiClient } from './api-client';
import { expectStatus } from './api-client';
import { runAll } from './run-all';
import type { Scenario } from './scenario';
import type { World } from './world';
import { simKey } from './world';

export interface Cast {
  adminKey: string;
  supportKey: string;
  providerIds: Map<string, number>;
  /** Scenario.services index → service id. */
  serviceIds: number[];
  /** Scenario.users index → user id and key. */
  users: Array<{ id: number; key: string }>;
}

/** Users whose keys and opening balances are created at once (the default world has 251). */
const SETUP_LANES = 8;

export async function setUpWorld(world: World, api: ApiClient, scenario: Scenario): Promise<Cast> {
  const { key: adminKey, keyHash, keyPrefix } = generateApiKey();
  await world.prisma.user.create({ data: { name: 'Simulation admin', apiKeys: { create: { keyHash, keyPrefix, role: 'admin', label: 'simulation' } } } });

  const createUser = async (name: string) =>
    (expectStatus(await api.call(adminKey, 'POST', '/admin/users', { name }), 'create user', 201).body.user as { id: number }).id;
  const createKey = async (userId: number, role: 'user' | 'support') =>
    expectStatus(await api.call(adminKey, 'POST', `/admin/users/${userId}/api-keys`, { role }), 'create key', 201).body.apiKey.key as string;
  const supportId = await createUser('Simulation support');
  const support = { id: supportId, key: await createKey(supportId, 'support') };

  const providerIds = new Map<string, number>();
  for (const p of scenario.providers) {
    const created = await api.call(adminKey, 'POST', '/admin/providers', {
      name: `sim-${p.key}`,
      apiUrl: world.proxy.apiUrl(p.key),
      apiKey: simKey(p.key),
      supportsLinkLookup: p.supportsLinkLookup,
      countSourceUrl: world.simulator.countUrl,
    });
    providerIds.set(p.key, expectStatus(created, 'create provider', 201).body.provider.id);
  }
  const serviceIds: number[] = [];
  for (const s of scenario.services) {
    const created = await api.call(adminKey, 'POST', '/admin/services', {
      name: s.name,
      category: s.category,
      type: s.type,
      providerId: providerIds.get(s.provider),
      providerServiceId: String(s.providerServiceId),
      rate: s.rate,
      min: s.min,
      max: s.max,
      refill: s.refill,
      cancelable: s.cancelable,
      ...(s.dripfeed ? { dripfeed: s.dripfeed } : {}),
    });
    serviceIds.push(expectStatus(created, `create service ${s.key}@${s.provider}`, 201).body.service.id);
  }
  // The users one by one, so a seed gives every user the same id each run (a failing order's
  // timeline names them); their keys and opening balances then go several at a time.
  const userIds: number[] = [];
  for (const u of scenario.users) userIds.push(await createUser(`Simulation ${u.key}`));
  const users: Cast['users'] = new Array(userIds.length);
  await runAll(
    scenario.users.map((u, i) => async () => {
      users[i] = { id: userIds[i], key: await createKey(userIds[i], 'user') };
      if (Number(u.openingBalance) > 0) {
        const topUp = await api.call(adminKey, 'POST', `/admin/users/${userIds[i]}/top-ups`, { amount: u.openingBalance, paymentReference: `opening-${u.key}` });
        expectStatus(topUp, 'opening top-up', 201);
      }
    }),
    SETUP_LANES,
  );
  for (const rule of BASE_RULES) world.simulator.state.addScenario(rule.token, rule.scenario);
  for (const fate of scenario.fates) {
    if (!fate.oncePerOrder) world.simulator.state.addScenario(fateToken(fate.name), fate.scenario);
  }
  return { adminKey, supportKey: support.key, providerIds, serviceIds, users };
}
