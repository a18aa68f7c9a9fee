// Reconciliation's per-extent decision, each test after one of crucible's upstairs/src/mend.rs
// tests (6d037cb6): which extents are fixed, from which source, onto which destinations.

import test from 'ava';
import { ProtocolPanic } from '../../model/assert.ts';
import type { ExtentVersionsBody } from '../../model/crucible/protocol.ts';
import type { Upstairs } from '../../model/crucible/upstairs/context.ts';
import { collate, extentFix } from '../../model/crucible/upstairs/reconcile.ts';

const meta = (gen: number[], flush: number[], dirty: boolean[]): ExtentVersionsBody => ({ gen, flush, dirty });

type Fixes = Map<number, { source: number; dest: readonly number[] }>;

/**
 * DownstairsMend::new over the regions present, keyed by client id as upstream's ClientMap: the
 * fixes by extent, as mend's map holds them (empty where upstream returns None). extentFix takes
 * the regions as a list, so its positions are mapped back to the client ids.
 */
function mendAmong(present: ReadonlyMap<number, ExtentVersionsBody>): Fixes {
  const ids = [...present.keys()];
  const versions = [...present.values()];
  const fixes: Fixes = new Map();
  for (let e = 0; e < versions[0]!.gen.length; e++) {
    const fix = extentFix(versions, e);
    if (fix !== null) fixes.set(e, { source: ids[fix.source]!, dest: fix.dest.map((c) => ids[c]!) });
  }
  return fixes;
}

/** DownstairsMend::new over three clients, 0, 1 and 2 in order. */
const mend = (...clients: ExtentVersionsBody[]): Fixes => mendAmong(new Map(clients.map((c, i) => [i, c])));

/** Just what collate reads of the upstairs: the region's extent count, the generation, the client addresses. */
const upstairs = (extentCount: number): Upstairs =>
  ({ region: { regionId: 'region', extentCount, blocksPerExtent: 1 }, gen: 100, clients: [0, 1, 2].map((i) => ({ address: `downstairs-${i}` })) }) as unknown as Upstairs;

const clean9 = [false, false, false, false, false, false, false, false, false];
const ones9 = [1, 1, 1, 1, 1, 1, 1, 1, 1];
// The exhaustive grids: clients 0 and 1 take every pair of values 1..3, extent by extent.
const grid0 = [1, 2, 3, 1, 2, 3, 1, 2, 3];
const grid1 = [1, 1, 1, 2, 2, 2, 3, 3, 3];

// mend.rs reconcile_one, reconcile_to_repair
test('three equal clean regions: nothing to fix', (t) => {
  const one = meta([1, 1, 1], [3, 3, 3], [false, false, false]);
  t.is(mend(one, one, one).size, 0);
  const d = meta([1, 2, 3, 0], [4, 5, 4, 0], [false, false, false, false]);
  t.is(mend(d, d, d).size, 0);
});

// mend.rs reconcile_gen_length_bad (upstream panics building the region: 3 generations, 4 flush numbers)
test('collate panics on a client with fewer generations than flush numbers, or more extents than the others', (t) => {
  const short = meta([1, 1, 1], [3, 3, 3, 3], [false, false, false, false]);
  const long = meta([1, 1, 1, 1], [3, 3, 3, 3], [false, false, false, false]);
  t.throws(() => collate(upstairs(4), [short, short, long]), { instanceOf: ProtocolPanic, message: /extent lists of different lengths: 3, 4, 4 for 4 extents/ });
  // The cross-client check the test is named for (upstream's panic comes first): regions of different lengths.
  const three = meta([1, 1, 1], [3, 3, 3], [false, false, false]);
  t.throws(() => collate(upstairs(3), [three, three, long]), { instanceOf: ProtocolPanic, message: /extent lists of different lengths: 4, 4, 4 for 3 extents/ });
});

// mend.rs reconcile_flush_length_bad
test('collate panics on a client with fewer flush numbers than generations', (t) => {
  const d1 = meta([0, 0, 0, 1], [0, 0, 0, 0], [false, false, false, false]);
  const d2 = meta([0, 0, 0, 1], [0, 0, 0], [false, false, false, false]);
  t.throws(() => collate(upstairs(4), [d1, d1, d2]), { instanceOf: ProtocolPanic, message: /extent lists of different lengths: 4, 3, 4 for 4 extents/ });
});

// mend.rs reconcile_dirty_length_bad
test('collate panics on a client with fewer dirty bits than generations', (t) => {
  const d1 = meta([0, 0, 0, 1], [0, 0, 0, 0], [false, false, false]);
  const d2 = meta([0, 0, 0, 1], [0, 0, 0, 0], [false, false, false, false]);
  t.throws(() => collate(upstairs(4), [d1, d2, d1]), { instanceOf: ProtocolPanic, message: /extent lists of different lengths: 4, 4, 3 for 4 extents/ });
});

// mend.rs reconcile_length_mismatch
test('collate panics when every client has more generations than flush numbers and dirty bits', (t) => {
  const d1 = meta([0, 0, 0, 1], [0, 0, 0], [false, false, false]);
  t.throws(() => collate(upstairs(4), [d1, d1, d1]), { instanceOf: ProtocolPanic, message: /extent lists of different lengths: 4, 3, 3 for 4 extents/ });
});

// mend.rs reconcile_dirty_mismatch_c0
test('two clients dirty, one with the higher flush number: it is the source, both others are fixed', (t) => {
  const d1 = meta([9, 8, 7, 7], [2, 1, 2, 1], [false, false, false, false]);
  const d2 = meta([9, 8, 7, 7], [2, 1, 2, 1], [false, false, true, false]);
  const d3 = meta([9, 8, 7, 7], [2, 1, 3, 1], [false, false, true, false]);
  t.deepEqual([...mend(d1, d2, d3)], [[2, { source: 2, dest: [0, 1] }]]);
});

// mend.rs reconcile_dirty_mismatch_c2
test('a dirty client behind in generation: the lowest client ahead is the source, only the dirty one is fixed', (t) => {
  const d1 = meta([9, 8, 7, 7], [2, 1, 2, 1], [false, false, false, false]);
  const d2 = meta([9, 7, 7, 7], [2, 1, 2, 1], [false, true, false, false]);
  t.deepEqual([...mend(d1, d1, d2)], [[1, { source: 0, dest: [2] }]]);
});

// mend.rs reconcile_dirty_mismatch_c1
test('one client dirty, all else equal: the dirty client is the source, both others are fixed', (t) => {
  const d1 = meta([9, 8, 7, 7], [2, 1, 2, 1], [false, false, false, false]);
  const d2 = meta([9, 8, 7, 7], [2, 1, 2, 1], [false, false, true, false]);
  t.deepEqual([...mend(d1, d2, d1)], [[2, { source: 1, dest: [0, 2] }]]);
});

// mend.rs reconcile_dirty_true
test('every client dirty on an extent, all else equal: the lowest client is the source, the other two are fixed', (t) => {
  const d = meta([9, 8, 7, 7], [2, 1, 2, 1], [true, false, false, true]);
  t.deepEqual([...mend(d, d, d)], [
    [0, { source: 0, dest: [1, 2] }],
    [3, { source: 0, dest: [1, 2] }],
  ]);
});

// mend.rs reconcile_generation_mismatch_c0
test('client 0 ahead in generation on extent 0: the source is 0, both others are fixed, nothing else', (t) => {
  const d1 = meta([9, 8, 7, 0], [2, 1, 2, 1], [false, false, false, false]);
  const d2 = meta([8, 8, 7, 0], [2, 1, 2, 1], [false, false, false, false]);
  t.deepEqual([...mend(d1, d2, d2)], [[0, { source: 0, dest: [1, 2] }]]);
});

// mend.rs reconcile_generation_mismatch_c1
test('client 1 behind in generation on extent 0: the source is 0, only client 1 is fixed', (t) => {
  const d1 = meta([9, 8, 7, 0], [2, 1, 2, 3], [false, false, false, false]);
  const d2 = meta([8, 8, 7, 0], [2, 1, 2, 3], [false, false, false, false]);
  t.deepEqual([...mend(d1, d2, d1)], [[0, { source: 0, dest: [1] }]]);
});

// mend.rs reconcile_generation_mismatch_c2
test('three extents with different generations, each with its own source', (t) => {
  const d1 = meta([7, 8, 7, 5], [2, 1, 2, 3], [false, false, false, false]);
  const d2 = meta([8, 9, 7, 4], [2, 1, 2, 3], [false, false, false, false]);
  const d3 = meta([8, 10, 7, 3], [2, 1, 2, 3], [false, false, false, false]);
  t.deepEqual([...mend(d1, d2, d3)], [
    [0, { source: 1, dest: [0] }], // client 2 ties the source: not fixed
    [1, { source: 2, dest: [0, 1] }],
    [3, { source: 0, dest: [1, 2] }],
  ]);
});

// mend.rs reconcile_flush_mismatch_c0
test('client 0 behind in flush number: the source is client 1, only client 0 is fixed', (t) => {
  const d1 = meta([9, 8, 7, 7], [1, 1, 2, 1], [false, false, false, false]);
  const d2 = meta([9, 8, 7, 7], [2, 1, 2, 1], [false, false, false, false]);
  t.deepEqual([...mend(d1, d2, d2)], [[0, { source: 1, dest: [0] }]]);
});

// mend.rs reconcile_flush_mismatch_c1: six extents, each with a different answer
test('a clean source fixes only the clients that differ from it', (t) => {
  const dirty = [false, false, false, false, false, false];
  const d1 = meta([9, 8, 7, 7, 6, 5], [1, 2, 3, 3, 1, 2], dirty);
  const d2 = meta([9, 8, 7, 7, 6, 5], [2, 1, 2, 2, 3, 3], dirty);
  const d3 = meta([9, 8, 7, 7, 6, 5], [3, 3, 3, 1, 3, 2], dirty);
  t.deepEqual([...mend(d1, d2, d3)], [
    [0, { source: 2, dest: [0, 1] }],
    [1, { source: 2, dest: [0, 1] }],
    [2, { source: 0, dest: [1] }], // clients 0 and 2 tie: the lower is the source
    [3, { source: 0, dest: [1, 2] }],
    [4, { source: 1, dest: [0] }],
    [5, { source: 1, dest: [0, 2] }],
  ]);
});

// mend.rs reconcile_flush_mismatch_c2
test('client 2 ahead in flush number on two extents: it is the source of both, clients 0 and 1 are fixed', (t) => {
  const d1 = meta([9, 8, 7, 7], [1, 1, 2, 1], [false, false, false, false]);
  const d2 = meta([9, 8, 7, 7], [2, 1, 2, 3], [false, false, false, false]);
  t.deepEqual([...mend(d1, d1, d2)], [
    [0, { source: 2, dest: [0, 1] }],
    [3, { source: 2, dest: [0, 1] }],
  ]);
});

// mend.rs reconcile_one_of_each
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

// mend.rs reconcile_multiple_source
test('the flush number breaks a generation tie, but a higher generation beats a higher flush number', (t) => {
  const d1 = meta([9, 7, 7, 7], [1, 1, 2, 5], [false, false, false, false]);
  const d2 = meta([9, 8, 9, 8], [2, 1, 1, 4], [false, false, false, false]);
  const d3 = meta([8, 8, 7, 9], [3, 2, 3, 3], [false, false, false, false]);
  t.deepEqual([...mend(d1, d2, d3)], [
    [0, { source: 1, dest: [0, 2] }],
    [1, { source: 2, dest: [0, 1] }],
    [2, { source: 1, dest: [0, 2] }],
    [3, { source: 2, dest: [0, 1] }], // the lowest flush number, the highest generation
  ]);
});

// The grids of reconcile_gen_* and reconcile_flush_* (upstream's values): clients 0 and 1 take
// every pair from 1 to 3 over nine extents, client 2 one value for all; generation and flush
// number decide alike, so the two families share their expected fixes.
const GRID_FIXES: Readonly<Record<number, readonly (readonly [number, { source: number; dest: number[] }])[]>> = {
  1: [
    [1, { source: 0, dest: [1, 2] }],
    [2, { source: 0, dest: [1, 2] }],
    [3, { source: 1, dest: [0, 2] }],
    [4, { source: 0, dest: [2] }],
    [5, { source: 0, dest: [1, 2] }],
    [6, { source: 1, dest: [0, 2] }],
    [7, { source: 1, dest: [0, 2] }],
    [8, { source: 0, dest: [2] }],
  ],
  2: [
    [0, { source: 2, dest: [0, 1] }],
    [1, { source: 0, dest: [1] }],
    [2, { source: 0, dest: [1, 2] }],
    [3, { source: 1, dest: [0] }],
    [5, { source: 0, dest: [1, 2] }],
    [6, { source: 1, dest: [0, 2] }],
    [7, { source: 1, dest: [0, 2] }],
    [8, { source: 0, dest: [2] }],
  ],
  3: [
    [0, { source: 2, dest: [0, 1] }],
    [1, { source: 2, dest: [0, 1] }],
    [2, { source: 0, dest: [1] }],
    [3, { source: 2, dest: [0, 1] }],
    [4, { source: 2, dest: [0, 1] }],
    [5, { source: 0, dest: [1] }],
    [6, { source: 1, dest: [0] }],
    [7, { source: 1, dest: [0] }],
  ],
};

// mend.rs reconcile_gen_a (where upstream checks only the first destinations, of extents 2 and 3, the whole list is checked)
test('every generation from 1 to 3 on clients 0 and 1, with client 2 at 1', (t) => {
  t.deepEqual([...mend(meta(grid0, ones9, clean9), meta(grid1, ones9, clean9), meta(ones9, ones9, clean9))], GRID_FIXES[1]);
});

// mend.rs reconcile_gen_b (where upstream checks only the first destinations, of extents 2 and 3, the whole list is checked)
test('every generation from 1 to 3 on clients 0 and 1, with client 2 at 2', (t) => {
  t.deepEqual([...mend(meta(grid0, ones9, clean9), meta(grid1, ones9, clean9), meta(ones9.map(() => 2), ones9, clean9))], GRID_FIXES[2]);
});

// mend.rs reconcile_gen_c
test('every generation from 1 to 3 on clients 0 and 1, with client 2 at 3', (t) => {
  t.deepEqual([...mend(meta(grid0, ones9, clean9), meta(grid1, ones9, clean9), meta(ones9.map(() => 3), ones9, clean9))], GRID_FIXES[3]);
});

// mend.rs reconcile_flush_a (where upstream checks only the first destinations, of extents 2 and 3, the whole list is checked)
test('every flush number from 1 to 3 on clients 0 and 1, with client 2 at 1', (t) => {
  t.deepEqual([...mend(meta(ones9, grid0, clean9), meta(ones9, grid1, clean9), meta(ones9, ones9, clean9))], GRID_FIXES[1]);
});

// mend.rs reconcile_flush_b (where upstream checks only the first destinations, of extents 2 and 3, the whole list is checked)
test('every flush number from 1 to 3 on clients 0 and 1, with client 2 at 2', (t) => {
  t.deepEqual([...mend(meta(ones9, grid0, clean9), meta(ones9, grid1, clean9), meta(ones9, ones9.map(() => 2), clean9))], GRID_FIXES[2]);
});

// mend.rs reconcile_flush_c
test('every flush number from 1 to 3 on clients 0 and 1, with client 2 at 3', (t) => {
  t.deepEqual([...mend(meta(ones9, grid0, clean9), meta(ones9, grid1, clean9), meta(ones9, ones9.map(() => 3), clean9))], GRID_FIXES[3]);
});

// mend.rs reconcile_only_one
test('one region alone, whichever client: nothing to fix', (t) => {
  const dsr = meta([1, 1, 1], [3, 3, 3], [false, false, false]);
  for (const id of [0, 1, 2]) t.is(mendAmong(new Map([[id, dsr]])).size, 0);
});

// mend.rs reconcile_one_dirty: fewer than two regions is nothing to mend, even with a dirty extent
test('one region alone with a dirty extent, whichever client: nothing to fix', (t) => {
  const dsr = meta([1, 1, 1], [3, 3, 3], [true, false, false]);
  for (const id of [0, 1, 2]) t.is(mendAmong(new Map([[id, dsr]])).size, 0);
});

// mend.rs reconcile_two
test('two regions, each pair of clients: generation, then flush, then dirty decide; a full tie goes to the lower client', (t) => {
  const c0 = meta([1, 1, 1, 5], [3, 4, 3, 9], [false, false, false, true]);
  const c1 = meta([2, 1, 1, 5], [3, 3, 3, 9], [false, false, true, true]);
  for (const [lo, hi] of [[0, 1], [0, 2], [1, 2]] as const) {
    t.deepEqual([...mendAmong(new Map([[lo, c0], [hi, c1]]))], [
      [0, { source: hi, dest: [lo] }], // the higher generation
      [1, { source: lo, dest: [hi] }], // the higher flush number
      [2, { source: hi, dest: [lo] }], // the dirty one
      [3, { source: lo, dest: [hi] }], // both dirty: the lower client
    ], `clients ${lo} and ${hi}`);
  }
});
