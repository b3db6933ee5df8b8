/**
 * gRPC compression of the worker's connection to Temporal (the SDK's core compresses every request
 * with gzip by default). Over loopback, as `npm start` runs the worker beside the in-memory server,
 * compressing buys nothing and costs CPU at both ends: measured at 16 clients, the in-memory server
 * spent ~6 % of its process's CPU gunzipping the worker's requests (README, "Intake speed").
 *
 * TEMPORAL_GRPC_COMPRESSION=gzip|none chooses; unset, loopback addresses get none and others keep
 * the SDK's gzip (a worker reaching Temporal over a network, as in docker compose).
 */
export type GrpcCompression = { codec: 'gzip' } | { codec: 'none' };

export function grpcCompressionFor(address: string, env: NodeJS.ProcessEnv = process.env): GrpcCompression {
  const chosen = env.TEMPORAL_GRPC_COMPRESSION;
  if (chosen === 'gzip' || chosen === 'none') return { codec: chosen };
  if (chosen !== undefined && chosen !== '') {
    throw new Error(`TEMPORAL_GRPC_COMPRESSION must be "gzip" or "none", got "${chosen}"`);
  }
  return { codec: isLoopback(address) ? 'none' : 'gzip' };
}

/** host:port (or [v6]:port) on this machine's loopback interface. */
export function isLoopback(address: string): boolean {
  const host = address.startsWith('[') ? address.slice(1, address.indexOf(']')) : address.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
