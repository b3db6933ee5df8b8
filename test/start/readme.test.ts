// The README's rule table stays true: every file it names exists and names the rule, and every rule ID
// the domain knows (domain/rule-ids.ts) has a row.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

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
