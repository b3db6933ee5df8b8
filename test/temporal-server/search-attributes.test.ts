// The in-memory Temporal server's search attributes (temporal-server/search-attributes.ts): like real
// Temporal it refuses attributes nobody registered, and takes TemporalChangeVersion, which the SDK
// upserts with every patched() id (without it a workflow using patched() failed its every task).
import { SearchAttributeRegistry } from '../../temporal-server/search-attributes';

const value = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('["drip-feed-stalled-cancel-ends-run"]') };

it('TemporalChangeVersion (patched()) may be written without registering it; an unknown attribute is still refused', () => {
  const registry = new SearchAttributeRegistry();
  expect(registry.refusal({ TemporalChangeVersion: value })).toBeNull();
  expect(registry.refusal({ OrderStatus: value })).toBe('search attribute OrderStatus is not defined');
  expect(registry.refusal({ WorkflowId: value })).toBe("WorkflowId attribute can't be set in SearchAttributes");
});
