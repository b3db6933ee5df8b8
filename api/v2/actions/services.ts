// action=services: the active catalogue, as panels list it:
//   [{"service":1,"name":"...","type":"Default","category":"...","rate":"0.90000","min":"50",
//     "max":"10000","refill":true,"cancel":true,"dripfeed":false}]
// The service id is an integer; rate (per 1000), min and max are strings, as panels send them.
// `type` is the API v2 name of the service's type (domain/service-types.ts SERVICE_TYPE_NAMES);
// `dripfeed` is true where the service takes `runs`/`interval` (run by the engine or the provider).
import { formatMoney } from '../../../domain/money';
import { SERVICE_TYPE_NAMES, isServiceType } from '../../../domain/service-types';
import type { Action } from '../context';

/** "default" → "Default", "custom_comments" → "Custom Comments"; a type already capitalised stays. */
export function typeLabel(type: string): string {
  if (/[A-Z]/.test(type)) return type;
  return type
    .split(/[_\s-]+/)
    .filter(Boolean)
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join(' ');
}

export const services: Action = async ({ deps }) => {
  const rows = await deps.prisma.service.findMany({ where: { active: true }, orderBy: { id: 'asc' } });
  return rows.map((s) => ({
    service: s.id,
    name: s.name,
    type: isServiceType(s.type) ? SERVICE_TYPE_NAMES[s.type] : typeLabel(s.type),
    category: s.category,
    rate: formatMoney(s.rate.toFixed(5)),
    min: String(s.min),
    max: String(s.max),
    refill: s.refillKind !== 'none',
    cancel: s.cancelable,
    dripfeed: s.dripfeed !== 'none',
  }));
};
