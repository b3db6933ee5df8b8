export { createProviderClient, MAX_IDS_PER_CALL, ProviderUnavailableError, type ProviderClient, type ProviderClientOptions } from './client';
export { classifyAddErrorText, classifyAddOutcome, type AddCallOutcome, type TransportFailureKind } from './classify';
export { describeFetchFailure, TransportFailure } from './http';
export {
  clampRemains,
  normalizeOrderStatus,
  normalizeRefillStatus,
  parseCount,
  parseMultiStatus,
  parseOrderStatusEntry,
} from './parse';
export * from './types';
