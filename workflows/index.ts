/** Every workflow the engine's worker runs (the bundle's entry point). */
export * from './order-workflow';
export * from './provider-sync-workflow';
export * from './order-recovery-workflow';
