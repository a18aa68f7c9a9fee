// The seeds a sweep runs, generated lazily so a range of any size starts at once and stays in
// constant memory: nothing here holds more than a few numbers.
//
// Two kinds:
// - a range `A..B`: seeds A, A+1, ..., B;
// - `random:N@S`: N seeds drawn from the start S. Seed i is a bijective 32-bit mix of S + i
//   (murmur3's finaliser), so no seed repeats within 2^32 draws and the same start gives the same
//   seeds on any machine: a nightly sweep prints its start and can be run again exactly.
// A shard K/N of a sequence takes its elements K-1, K-1+N, K-1+2N, ... so N machines split it.

import { fail } from './assert.ts';

export interface SeedSequence {
  /** How the sequence is written on the command line: `1..1000`, `random:1000@3141592653`. */
  readonly text: string;
  readonly length: number;
  /** The seed at `index` (0-based). */
  at(index: number): number;
  /** The same sequence cut after `index`: what runs every seed up to and including that one. */
  prefixText(index: number): string;
}

export interface Shard {
  /** 1-based. */
  readonly index: number;
  readonly count: number;
}

export const WHOLE: Shard = { index: 1, count: 1 };

/** Most seeds a `random:N` sequence can draw without repeating one. */
export const RANDOM_SEEDS_MAX = 2 ** 32;

export function seedRange(first: number, last: number): SeedSequence {
  if (!(Number.isSafeInteger(first) && Number.isSafeInteger(last) && first >= 0 && first <= last)) fail(`bad seed range ${first}..${last}`);
  const length = last - first + 1;
  return {
    text: `${first}..${last}`,
    length,
    at: (index) => {
      if (!(index >= 0 && index < length)) fail(`seed index ${index} outside ${first}..${last}`);
      return first + index;
    },
    prefixText: (index) => `${first}..${first + index}`,
  };
}

export function randomSeeds(count: number, start: number): SeedSequence {
  if (!(Number.isInteger(count) && count >= 1 && count <= RANDOM_SEEDS_MAX)) fail(`random seed count ${count} outside 1..2^32`);
  if (!(Number.isInteger(start) && start >= 0 && start < 2 ** 32)) fail(`random seed start ${start} outside 0..2^32-1`);
  return {
    text: `random:${count}@${start}`,
    length: count,
    at: (index) => {
      if (!(index >= 0 && index < count)) fail(`seed index ${index} outside random:${count}`);
      return mix32((start + index) >>> 0);
    },
    prefixText: (index) => `random:${index + 1}@${start}`,
  };
}

/** murmur3's 32-bit finaliser: each step (xor-shift, odd multiply) is invertible, so it is a bijection. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The K-th of N shards of `seeds`: every N-th element from the K-th. */
export function sharded(seeds: SeedSequence, shard: Shard): SeedSequence {
  if (!(shard.count >= 1 && shard.index >= 1 && shard.index <= shard.count)) fail(`bad shard ${shard.index}/${shard.count}`);
  if (shard.count === 1) return seeds;
  const offset = shard.index - 1;
  const length = seeds.length > offset ? Math.floor((seeds.length - 1 - offset) / shard.count) + 1 : 0;
  const whole = (index: number): number => {
    if (!(index >= 0 && index < length)) fail(`seed index ${index} outside shard ${shard.index}/${shard.count} of ${length}`);
    return offset + index * shard.count;
  };
  return {
    text: seeds.text,
    length,
    at: (index) => seeds.at(whole(index)),
    prefixText: (index) => seeds.prefixText(whole(index)),
  };
}

/** The seeds of `seeds` from `from` on, one at a time (a generator never builds the list). */
export function* seedsOf(seeds: SeedSequence, from = 0): Generator<number> {
  for (let i = from; i < seeds.length; i++) yield seeds.at(i);
}
