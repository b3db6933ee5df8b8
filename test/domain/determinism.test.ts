import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The domain is bundled into Temporal's deterministic workflow sandbox: no Node built-ins,
// no clock, no randomness, and no packages other than decimal.js.
const dir = join(__dirname, '../../domain');
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

describe('domain purity (workflow sandbox)', () => {
  it('SANDBOX: there are domain files to check', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files)('SANDBOX: %s imports only decimal.js and sibling domain files', (file) => {
    const source = readFileSync(join(dir, file), 'utf8');
    const specifiers = [...source.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
    for (const s of specifiers) expect(s === 'decimal.js' || /^\.\/[a-z0-9-]+$/.test(s)).toBe(true);
  });

  it.each(files)('SANDBOX: %s reads no clock, randomness or process state', (file) => {
    const source = readFileSync(join(dir, file), 'utf8');
    expect(source).not.toMatch(/Date\.now|Math\.random|new Date\(\s*\)|performance\.|process\.|setTimeout|setInterval|crypto/);
  });
});
