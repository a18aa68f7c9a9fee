import test from 'ava';
import fc from 'fast-check';
import { mix32, randomSeeds, seedRange, seedsOf, sharded } from '../../sim/seed-sequence.ts';

test('a range is generated, not built: ten billion seeds answer at once', (t) => {
  const seeds = seedRange(1, 10_000_000_000);
  t.is(seeds.length, 10_000_000_000);
  t.is(seeds.at(0), 1);
  t.is(seeds.at(9_999_999_999), 10_000_000_000);
  t.is(seeds.text, '1..10000000000');
  t.is(seeds.prefixText(41), '1..42');
  t.throws(() => seeds.at(10_000_000_000));
});

test('random:N@S draws N distinct seeds, the same ones from the same start', (t) => {
  const a = randomSeeds(5000, 123456789);
  const b = randomSeeds(5000, 123456789);
  const all = [...seedsOf(a)];
  t.deepEqual(all, [...seedsOf(b)]);
  t.is(new Set(all).size, 5000, 'no seed repeats');
  t.not(randomSeeds(5, 1).at(0), randomSeeds(5, 2).at(0));
  t.is(a.text, 'random:5000@123456789');
  t.is(a.prefixText(9), 'random:10@123456789');
  t.is(randomSeeds(10, 123456789).at(9), a.at(9), 'a prefix draws the same seeds');
});

test('mix32 is a bijection on 32-bit words: distinct inputs, distinct seeds', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (x, y) => (x === y) === (mix32(x) === mix32(y))),
  );
  // Across the wrap of the start: S + i past 2^32 stays distinct.
  const wrap = randomSeeds(1000, 2 ** 32 - 500);
  t.is(new Set(seedsOf(wrap)).size, 1000);
});

test('the shards of a sequence split it exactly, every N-th from the K-th', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 7 }), (length, count) => {
      const whole = seedRange(100, 100 + length - 1);
      const parts = Array.from({ length: count }, (_, k) => [...seedsOf(sharded(whole, { index: k + 1, count }))]);
      const joined = parts.flat().sort((a, b) => a - b);
      return JSON.stringify(joined) === JSON.stringify([...seedsOf(whole)]) && parts.every((p, k) => p.every((s) => (s - 100) % count === k));
    }),
  );
  const shard = sharded(seedRange(1, 10), { index: 2, count: 3 });
  t.deepEqual([...seedsOf(shard)], [2, 5, 8]);
  t.is(shard.prefixText(1), '1..5', 'the prefix through the shard seed 5');
  t.is(sharded(seedRange(1, 2), { index: 3, count: 3 }).length, 0);
});
