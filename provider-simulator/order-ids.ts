/**
 * Where the simulator's upstream order ids come from. A real provider numbers orders from a database
 * sequence: ids only grow, across restarts too, so an engine that stored an id never sees it given to
 * another order. The simulator keeps its orders in memory, but with a data directory it keeps the
 * sequence's high-water mark on disk the way PostgreSQL caches a sequence: it reserves a block of ids
 * (writes "next free id after the block" first, then hands the block out), so a crash or a restart
 * skips the rest of the block and never goes back. Without a data directory (tests, benchmarks, each
 * with a fresh engine) ids start at `first` in every run.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface OrderIdSequence {
  next(): number;
}

export const FIRST_ORDER_ID = 10001;
/** Ids reserved per write: one small file write per this many orders. */
export const ORDER_ID_BLOCK = 1000;

export function memoryOrderIds(first = FIRST_ORDER_ID): OrderIdSequence {
  let next = first;
  return { next: () => next++ };
}

/** The file that keeps the high-water mark in a simulator data directory. */
export function orderIdFile(dataDir: string): string {
  return join(dataDir, 'order-ids.json');
}

/**
 * Ids persisted in <dataDir>/order-ids.json as {"nextFree": n}: every id below n may have been
 * handed out. Throws at once (at the simulator's start) when the directory cannot be written.
 */
export function persistentOrderIds(dataDir: string, options: { first?: number; block?: number } = {}): OrderIdSequence {
  const file = orderIdFile(dataDir);
  const block = options.block ?? ORDER_ID_BLOCK;
  mkdirSync(dataDir, { recursive: true });
  let next = options.first ?? FIRST_ORDER_ID;
  let reservedUpTo = next; // exclusive
  const reserve = () => {
    // Read again at every block: a second simulator on the same directory moves the mark too.
    next = Math.max(next, readNextFree(file));
    reservedUpTo = next + block;
    // Write-then-rename: a crash mid-write leaves the previous mark, never a torn file.
    writeFileSync(`${file}.tmp`, `${JSON.stringify({ nextFree: reservedUpTo })}\n`);
    renameSync(`${file}.tmp`, file);
  };
  reserve();
  return {
    next() {
      if (next >= reservedUpTo) reserve();
      return next++;
    },
  };
}

function readNextFree(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const nextFree = (JSON.parse(text) as { nextFree?: unknown }).nextFree;
  if (!Number.isSafeInteger(nextFree) || (nextFree as number) < 0) {
    throw new Error(`${file}: "nextFree" is not a non-negative integer; refusing to reuse upstream order ids`);
  }
  return nextFree as number;
}
