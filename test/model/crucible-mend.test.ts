// Reconciliation's per-extent decision, each test after one of crucible's upstairs/src/mend.rs
// tests (6d037cb6): which extents are fixed, from which source, onto which destinations.

import test from 'ava';
import type { ExtentVersionsBody } from '../../model/crucible/protocol.ts';
import { extentFix } from '../../model/crucible/upstairs/reconcile.ts';

const meta = (gen: number[], flush: number[], dirty: boolean[]): ExtentVersionsBody => ({ gen, flush, dirty });

/** DownstairsMend::new over three clients: the fixes by extent, as mend's map holds them. */
function mend(...clients: ExtentVersionsBody[]): Map<number, { source: number; dest: readonly number[] }> {
  const fixes = new Map<number, { source: number; dest: readonly number[] }>();
  for (let e = 0; e < clients[0]!.gen.length; e++) {
    const fix = extentFix(clients, e);
    if (fix !== null) fixes.set(e, fix);
  }
  return fixes;
}

// reconcile_to_repair
test('three equal clean regions: nothing to fix', (t) => {
  const d = meta([1, 2, 3, 0], [4, 5, 4, 0], [false, false, false, false]);
  t.is(mend(d, d, d).size, 0);
});

// reconcile_generation_mismatch_c0
test('client 0 ahead in generation on extent 0: the source is 0, both others are fixed, nothing else', (t) => {
  const d1 = meta([9, 8, 7, 0], [2, 1, 2, 1], [false, false, false, false]);
  const d2 = meta([8, 8, 7, 0], [2, 1, 2, 1], [false, false, false, false]);
  t.deepEqual([...mend(d1, d2, d2)], [[0, { source: 0, dest: [1, 2] }]]);
});

// reconcile_dirty_true
test('every client dirty on an extent, all else equal: the lowest client is the source, the other two are fixed', (t) => {
  const d = meta([9, 8, 7, 7], [2, 1, 2, 1], [false, false, true, false]);
  t.deepEqual([...mend(d, d, d)], [[2, { source: 0, dest: [1, 2] }]]);
});

// reconcile_one_of_each
test('one of each: flush, generation, generation with dirty bits, and dirty everywhere', (t) => {
  const d1 = meta([9, 8, 7, 7], [2, 1, 2, 1], [false, false, false, true]);
  const d2 = meta([9, 7, 7, 7], [2, 1, 2, 1], [false, false, true, true]);
  const d3 = meta([9, 8, 8, 7], [3, 1, 2, 1], [true, false, false, true]);
  t.deepEqual([...mend(d1, d2, d3)], [
    [0, { source: 2, dest: [0, 1] }], // client 2 has the higher flush number
    [1, { source: 0, dest: [1] }], // client 2 equals the source: not fixed
    [2, { source: 2, dest: [0, 1] }],
    [3, { source: 0, dest: [1, 2] }], // dirty everywhere: the source's dirty bit sends it to all
  ]);
});

// reconcile_flush_mismatch_c1 (its first extents): the destinations are only those that differ
test('a clean source fixes only the clients that differ from it', (t) => {
  const d1 = meta([9, 9], [1, 3], [false, false]);
  const d2 = meta([9, 9], [2, 3], [false, false]);
  const d3 = meta([9, 9], [3, 3], [false, false]);
  t.deepEqual([...mend(d1, d2, d3)], [[0, { source: 2, dest: [0, 1] }]]);
});
