// What `npm start` and `npm run demo:seed` print about the demo: the key and a curl line that places an order.
import type { DemoSeed } from './demo';

/** The API path that places an order (api/app.ts). */
export const PLACE_ORDER_PATH = '/orders';

/** A link that the demo order uses; the engine allows one active order per link (R-ONE-ACTIVE-PER-LINK). */
export const DEMO_ORDER_LINK = 'https://instagram.com/demo.account';

export function demoOrderBody(demo: DemoSeed): { service: number; link: string; quantity: number } {
  const service = demo.services[0]!;
  return { service: service.id, link: DEMO_ORDER_LINK, quantity: Math.max(service.min, 100) };
}

export function curlPlaceOrder(apiUrl: string, demo: DemoSeed): string {
  return (
    `curl -sS -X POST ${apiUrl}${PLACE_ORDER_PATH} ` +
    `-H 'Authorization: Bearer ${demo.apiKey}' -H 'Content-Type: application/json' ` +
    `-d '${JSON.stringify(demoOrderBody(demo))}'`
  );
}

export function demoLines(apiUrl: string, demo: DemoSeed): string[] {
  const keyFrom = { env: 'DEMO_API_KEY', file: 'kept in the data directory', new: 'new, kept in the data directory' }[demo.keySource];
  return [
    `demo user #${demo.userId}, balance ${demo.balance}, API key (${keyFrom}): ${demo.apiKey}`,
    'demo services (id, name, price per 1000, min-max):',
    ...demo.services.map((s) => `  #${s.id} ${s.name}: ${s.rate}, ${s.min}-${s.max}`),
    `place an order:`,
    `  ${curlPlaceOrder(apiUrl, demo)}`,
  ];
}
