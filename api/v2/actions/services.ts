// action=services: the active catalogue, as panels list it:
//   [{"service":1,"name":"...","type":"Default","category":"...","rate":"0.90000","min":"50",
//     "max":"10000","refill":true,"cancel":true,"dripfeed":false}]
// The service id is an integer; rate (per 1000), min and max are strings, as panels send them.
// `dripfeed` is always false: the engine takes no drip-feed orders yet.
import { formatMoney } from '../../../domain/money';
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
    type: typeLabel(s.type),
    category: s.category,
    rate: formatMoney(s.rate.toFixed(5)),
    min: String(s.min),
    max: String(s.max),
    refill: s.refillKind !== 'none',
    cancel: s.cancelable,
    dripfeed: false,
  }));
};
