/**
 * Where a process's CPU went, from `node --cpu-prof` files: self time summed by part of the engine
 * (our folders, and the libraries by package), biggest first. Idle time is left out of the shares.
 *
 *   node --import tsx bench/profile/summarize-cpu-profile.ts <file.cpuprofile>...
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Our folders, then packages under node_modules, then V8/Node's own entries. */
export function partOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return 'V8: garbage collector';
    if (functionName === '(program)') return 'V8/native: (program)';
    return `native: ${functionName || '(anonymous)'}`;
  }
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1];
  if (pkg) return pkg.startsWith('@temporalio/') || pkg.startsWith('@prisma/') ? pkg : `lib: ${pkg}`;
  if (url.startsWith('node:')) return `node: ${url.slice(5).split('/')[0]}`;
  const ours = url.match(/\/(api|activities|workflows|temporal-server|worker|provider-simulator|db|domain|deps|observability|scripts|bench|generated)\//)?.[1];
  if (ours) return ours === 'generated' ? '@prisma/client (generated)' : `${ours}/`;
  if (url.includes('workflow-bundle') || url.startsWith('file:///') === false) return `other: ${url.slice(-60)}`;
  return `other: ${url.slice(-60)}`;
}

/** Node's and V8's own frames are charged to the nearest caller that is ours or a library's. */
const isRuntime = (part: string) => part.startsWith('node: ') || part.startsWith('native: ') || part === 'V8/native: (program)';

export function summarize(profile: Profile): Map<string, number> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partOfNode = (id: number): string => {
    let at: number | undefined = id;
    const leaf = byId.get(id)!.callFrame;
    while (at !== undefined) {
      const frame = byId.get(at)!.callFrame;
      const part = partOf(frame.url, frame.functionName);
      if (!isRuntime(part)) return at === id ? part : `${part} (+ runtime)`;
      at = parent.get(at);
    }
    return partOf(leaf.url, leaf.functionName);
  };
  const totals = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const part = partOfNode(profile.samples[i]!);
    totals.set(part, (totals.get(part) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return totals;
}

if (require.main === module) {
  for (const file of process.argv.slice(2)) {
    const totals = summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    const busy = [...totals].filter(([part]) => part !== '(idle)');
    const busyMs = busy.reduce((s, [, ms]) => s + ms, 0);
    console.log(`${file}: ${(busyMs / 1000).toFixed(1)} s busy, ${((totals.get('(idle)') ?? 0) / 1000).toFixed(1)} s idle`);
    for (const [part, ms] of busy.sort((a, b) => b[1] - a[1]).slice(0, 25)) {
      console.log(`  ${((100 * ms) / busyMs).toFixed(1).padStart(5)}%  ${(ms / 1000).toFixed(2).padStart(6)} s  ${part}`);
    }
  }
}
