/**
 * The worker's gRPC compression toward Temporal (scripts/runtime/grpc-compression.ts): none over
 * loopback (npm start), the SDK's gzip elsewhere, TEMPORAL_GRPC_COMPRESSION to choose; and a worker
 * connected as npm start connects it (connectTemporal) runs workflows on the in-memory server.
 */
import { Worker } from '@temporalio/worker';
import { connectTemporal } from '../../scripts/runtime/components';
import { grpcCompressionFor, isLoopback } from '../../scripts/runtime/grpc-compression';
import { bundleWorkflows, startTestTemporal } from '../support/temporal';
import type { TestTemporal } from '../support/temporal';
import * as activities from '../../temporal-server/conformance/activities';

describe('grpcCompressionFor', () => {
  it('loopback addresses get no compression, other hosts keep gzip', () => {
    expect(grpcCompressionFor('127.0.0.1:7233', {})).toEqual({ codec: 'none' });
    expect(grpcCompressionFor('localhost:7233', {})).toEqual({ codec: 'none' });
    expect(grpcCompressionFor('[::1]:7233', {})).toEqual({ codec: 'none' });
    expect(grpcCompressionFor('temporal:7233', {})).toEqual({ codec: 'gzip' });
    expect(grpcCompressionFor('10.0.0.5:7233', {})).toEqual({ codec: 'gzip' });
  });

  it('TEMPORAL_GRPC_COMPRESSION overrides the default either way, and a wrong value names the variable', () => {
    expect(grpcCompressionFor('127.0.0.1:7233', { TEMPORAL_GRPC_COMPRESSION: 'gzip' })).toEqual({ codec: 'gzip' });
    expect(grpcCompressionFor('temporal:7233', { TEMPORAL_GRPC_COMPRESSION: 'none' })).toEqual({ codec: 'none' });
    expect(() => grpcCompressionFor('temporal:7233', { TEMPORAL_GRPC_COMPRESSION: 'zstd' })).toThrow(/TEMPORAL_GRPC_COMPRESSION must be "gzip" or "none", got "zstd"/);
  });

  it('isLoopback reads the host of host:port and [v6]:port', () => {
    expect(isLoopback('127.8.9.1:1')).toBe(true);
    expect(isLoopback('127.0.0.1.example.com:1')).toBe(false);
    expect(isLoopback('[2001:db8::1]:7233')).toBe(false);
  });
});

describe('a worker connected by connectTemporal, uncompressed over loopback', () => {
  let temporal: TestTemporal;
  beforeAll(async () => {
    temporal = await startTestTemporal();
  });
  afterAll(async () => {
    await temporal?.teardown();
  });

  it('runs a workflow with an activity to completion on the server', async () => {
    const connections = await connectTemporal(temporal.address, 'default', {});
    try {
      const worker = await Worker.create({
        connection: connections.nativeConnection,
        taskQueue: 'uncompressed',
        workflowBundle: await bundleWorkflows(require.resolve('../../temporal-server/conformance/workflows')),
        activities,
      });
      const result = await worker.runUntil(
        connections.client.workflow.execute('activityRetry', { taskQueue: 'uncompressed', workflowId: 'uncompressed-1', args: [0] }),
      );
      expect(result).toBe('succeeded on attempt 1');
    } finally {
      await connections.stop();
    }
  });
});
