export * from './spec';
export * from './read-order';
export * from './provider-add';
export { nonEmptyLines, parseExecuteAt, parseExpiry } from './field-schemas';
