/**
 * CPU time used by this process and every process below it (the embedded PostgreSQL's backends, any
 * child process of the engine), from /proc. On a shared machine, throughput swings with other
 * people's load; the CPU an order costs moves far less, so the benches print both.
 */
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

export interface CpuSnapshot {
  /** ms of CPU of this Node process (all its threads). */
  node: number;
  /** ms of CPU of the processes below this one (PostgreSQL, child processes), by command name. */
  children: Map<string, number>;
}

function stat(pid: string): { ppid: number; name: string; ms: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(')');
    const name = text.slice(text.indexOf('(') + 1, close);
    const fields = text.slice(close + 2).split(' ');
    // fields[0] is state; utime, stime are the 14th and 15th fields of the line (11, 12 here).
    return { ppid: Number(fields[1]), name, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

export function cpuSnapshot(): CpuSnapshot {
  const usage = process.cpuUsage();
  const all = new Map<number, { ppid: number; name: string; ms: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(entry);
    if (s) all.set(Number(entry), s);
  }
  const below = new Set<number>([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, s] of all) {
      if (!below.has(pid) && below.has(s.ppid)) {
        below.add(pid);
        grew = true;
      }
    }
  }
  const children = new Map<string, number>();
  for (const pid of below) {
    if (pid === process.pid) continue;
    const s = all.get(pid)!;
    children.set(s.name, (children.get(s.name) ?? 0) + s.ms);
  }
  return { node: (usage.user + usage.system) / 1000, children };
}

/** CPU ms between two snapshots: this process, and the ones below it. Processes that ended meanwhile are not counted. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): { node: number; children: number } {
  let children = 0;
  for (const [name, ms] of after.children) children += Math.max(0, ms - (before.children.get(name) ?? 0));
  return { node: after.node - before.node, children };
}
