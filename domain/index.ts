/** The engine's business rules: pure, deterministic, safe to import from workflow code. */
export * from './rule-ids';
export * from './time';
export * from './money';
export * from './charge';
export * from './link';
export * from './order-status';
export * from './api-v2-status';
export * from './start-window';
export * from './cancel-policy';
export * from './refund';
export * from './refill-policy';
export * from './substitute';
