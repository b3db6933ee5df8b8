// The README's rule table stays true: every file it names exists and names the rule, and every rule ID
// the domain knows (domain/rule-ids.ts) has a row.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const REPO_ROOT = resolve(__dirname, '..', '..');
const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

function ruleTable(): Array<{ rules: string[]; files: string[] }> {
  const start = readme.indexOf('| rule | enforced in |');
  expect(start).toBeGreaterThan(0);
  const rows = readme.slice(start).split('\n').slice(2);
  const table: Array<{ rules: string[]; files: string[] }> = [];
  for (const row of rows) {
    if (!row.startsWith('|')) break;
    const [, rules, where] = row.split('|').map((cell) => cell.trim());
    table.push({ rules: rules!.split(/,\s*/), files: [...where!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!) });
  }
  return table;
}

it('every file in the rule table exists and names the rules of its row', () => {
  const problems: string[] = [];
  for (const { rules, files } of ruleTable()) {
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const path = join(REPO_ROOT, file);
      if (!existsSync(path)) {
        problems.push(`${file}: missing`);
        continue;
      }
      const text = readFileSync(path, 'utf8');
      for (const rule of rules) if (!new RegExp(`${rule}(?![A-Z-])`).test(text)) problems.push(`${file}: does not name ${rule}`);
    }
  }
  expect(problems).toEqual([]);
});

it('every rule ID of domain/rule-ids.ts has a row', () => {
  const known = [...readFileSync(join(REPO_ROOT, 'domain', 'rule-ids.ts'), 'utf8').matchAll(/'(R-[A-Z-]+)'/g)].map((m) => m[1]!);
  expect(known.length).toBeGreaterThan(10);
  const listed = new Set(ruleTable().flatMap((row) => row.rules));
  expect(known.filter((rule) => !listed.has(rule))).toEqual([]);
});

it('the links to other READMEs resolve', () => {
  const links = [...readme.matchAll(/\]\(([^)#]+?)\)/g)].map((m) => m[1]!).filter((l) => !/^https?:/.test(l));
  expect(links.length).toBeGreaterThan(5);
  expect(links.filter((link) => !existsSync(join(REPO_ROOT, link)))).toEqual([]);
});

/** Every Markdown file of the project (not node_modules, not generated code). */
function markdownFiles(dir = REPO_ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (['node_modules', 'generated', '.git', '.data', 'coverage'].includes(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

it('every relative link in every Markdown file resolves inside the repository', () => {
  const broken: string[] = [];
  for (const file of markdownFiles()) {
    const text = readFileSync(file, 'utf8');
    for (const [, link] of text.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)) {
      if (/^(https?:|mailto:)/.test(link!)) continue;
      const target = resolve(dirname(file), link!);
      if (!target.startsWith(REPO_ROOT) || !existsSync(target)) broken.push(`${relative(REPO_ROOT, file)} → ${link}`);
    }
  }
  expect(broken).toEqual([]);
});

it('nothing points at a shared/ folder outside the repository: a clone has only docs/', () => {
  const offenders = markdownFiles()
    .filter((file) => /(\.\.\/|\/work\/|`\/)shared\//.test(readFileSync(file, 'utf8')))
    .map((file) => relative(REPO_ROOT, file));
  expect(offenders).toEqual([]);
  expect(existsSync(join(REPO_ROOT, 'docs', 'RULES.md'))).toBe(true);
  expect(existsSync(join(REPO_ROOT, 'docs', 'smm-api-v2.md'))).toBe(true);
});
