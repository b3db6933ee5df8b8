// docker-compose.yml read as Docker Compose reads it (YAML with its anchors and merge keys), since
// Docker cannot run here: the wiring between services that only shows when the stack runs.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

const REPO_ROOT = resolve(__dirname, '..', '..');

interface Service {
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
}
const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { api, worker, simulator } = compose.services;

it("the api service's /metrics reaches the worker service's Temporal SDK metrics", () => {
  expect(api!.command).toEqual(['node', '--import', 'tsx', 'scripts/api.ts']);
  expect(worker!.command).toEqual(['node', '--import', 'tsx', 'scripts/worker.ts']);
  // The worker's exporter listens beyond its container's loopback, on the port the API fetches.
  expect(worker!.environment).toMatchObject({ TEMPORAL_METRICS_HOST: '0.0.0.0', TEMPORAL_METRICS_PORT: '9464' });
  const url = new URL(api!.environment!.SDK_METRICS_URL!);
  expect({ host: url.hostname, port: url.port, path: url.pathname }).toEqual({ host: 'worker', port: '9464', path: '/metrics' });
});

it('the worker and the api keep the shared engine settings (database, Temporal) next to their own', () => {
  for (const service of [api!, worker!]) {
    expect(service.environment).toMatchObject({
      DATABASE_URL: expect.stringMatching(/@postgres:5432\/engine$/),
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'default',
    });
  }
});

it("the simulator keeps its upstream order id sequence on a named volume, so ids never repeat after a restart", () => {
  const dataDir = simulator!.environment!.SIM_DATA_DIR!;
  expect(dataDir).toMatch(/^\//);
  const mount = simulator!.volumes!.map((volume) => volume.split(':')).find(([, target]) => target === dataDir);
  expect(mount).toBeDefined();
  expect(Object.keys(compose.volumes)).toContain(mount![0]);
  // The image's non-root user owns that directory, so a new volume is writable (Dockerfile).
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const userAt = dockerfile.indexOf('USER node');
  const chownAt = dockerfile.search(new RegExp(`mkdir -p ${dataDir.replace(/[.]/g, '\\.')} && chown -R node:node`));
  expect(chownAt).toBeGreaterThan(0);
  expect(chownAt).toBeLessThan(userAt);
});
