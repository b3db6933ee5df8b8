/** Throws unless `n` is a whole number >= `min` (quantities, counts, posts). */
export function assertWholeNumber(name: string, n: number, min: number): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
    throw new RangeError(`${name} must be a whole number >= ${min}, got ${String(n)}`);
  }
}
