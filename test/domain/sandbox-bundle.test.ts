import { bundleWorkflowCode } from '@temporalio/worker';

describe('domain in the workflow sandbox', () => {
  it('SANDBOX: the domain bundles with Temporal\'s workflow bundler (no Node built-ins, no disallowed modules)', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/domain-workflow.ts'),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never,
    });
    expect(code).toContain('domainProbe');
    expect(code).toContain('R-MINMAX'); // the domain itself is in the bundle
  });
});
