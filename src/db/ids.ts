import { randomInt } from 'node:crypto';
import { customType } from 'drizzle-orm/pg-core';

/**
 * Mastodon-style IDs: a 64-bit integer whose high 48 bits are the millisecond timestamp and whose
 * low 16 bits are a sequence. IDs sort by creation time, which is what `max_id` / `since_id` paging
 * relies on, and they travel as decimal strings because JavaScript clients cannot hold 64-bit ints.
 */
let lastMs = 0;
let sequence = 0;

export function newId(at: Date | number = Date.now()): string {
  const ms = typeof at === 'number' ? at : at.getTime();
  if (ms === lastMs) {
    sequence = (sequence + 1) & 0xffff;
    // 65,536 ids in one millisecond from one process: borrow the next millisecond.
    if (sequence === 0) return newId(ms + 1);
  } else {
    lastMs = ms;
    // A random start keeps two processes minting in the same millisecond apart most of the time.
    sequence = randomInt(0, 0x8000);
  }
  return ((BigInt(ms) << 16n) | BigInt(sequence)).toString();
}

/** The smallest id minted at `at`: the lower bound for "created at or after" comparisons. */
export function idFloor(at: Date | number): string {
  const ms = typeof at === 'number' ? at : at.getTime();
  return (BigInt(ms) << 16n).toString();
}

/** When an id was minted. */
export function idTime(id: string): Date {
  return new Date(Number(BigInt(id) >> 16n));
}

export function isId(value: unknown): value is string {
  return typeof value === 'string' && /^\d{1,19}$/.test(value) && BigInt(value) <= 0x7fffffffffffffffn;
}

/** A bigint column carried as a decimal string (both drivers hand int8 back differently). */
export const idColumn = customType<{ data: string; driverData: string | bigint | number }>({
  dataType: () => 'bigint',
  toDriver: (value) => value,
  fromDriver: (value) => String(value),
});
