// Collation and reconciliation (crucible 6d037cb6: upstairs.rs connect_region_set,
// downstairs.rs collate, mend.rs). With all three clients in WaitQuorum, the upstairs checks the
// activation generation against every stored extent generation (0 and anything not above them are
// refused, and disable the upstairs), then compares extents: one that differs across the three,
// or is dirty anywhere, is repaired from the highest (gen, flush, dirty), ties to the lowest
// client: the source is flushed at (max_flush, max_gen), the extent closed on every client, copied
// from the source's repair server by the clients that differ from the source (all the others if
// the source is dirty), and reopened. Each step is finished on its clients before the next
// (upstream sends each of the four to all three clients, those it does not name only acking). An
// error or a client lost aborts it: the clients reconnect as New and the upstairs stays GoActive.

import type { ExtentVersionsBody, UpstairsMessage } from '../protocol.ts';
import { panic } from '../../assert.ts';
import type { Reconciliation, Upstairs } from './context.ts';

export type Collation =
  | { readonly kind: 'Refused'; readonly reason: 'GenerationZeroIsIllegal' | 'GenerationNumberTooLow' }
  | { readonly kind: 'Ready'; readonly maxFlush: number }
  | { readonly kind: 'Repair'; readonly plan: Reconciliation };

/**
 * mend.rs DownstairsMend::new for one extent: it needs fixing when any client's (gen, flush,
 * dirty) differs from the first's or any is dirty; the source is the highest (gen, flush, dirty),
 * ties to the lowest client (find_source) or, given `tieOrder`, to the first in it (ours, for the
 * reconciliation of three clients that all need live repair: node.ts); the destinations are the
 * others that differ from the source, or all the others when the source is dirty (find_dest).
 */
export function extentFix(versions: readonly ExtentVersionsBody[], e: number, tieOrder: readonly number[] = versions.map((_, c) => c)): { readonly source: number; readonly dest: readonly number[] } | null {
  if (versions.length <= 1) return null; // DownstairsMend::new: one region has nothing to mend against
  if (!(tieOrder.length === versions.length && new Set(tieOrder).size === tieOrder.length)) panic(`tie order ${tieOrder.join(',')} for ${versions.length} clients`);
  const meta = versions.map((v) => ({ gen: v.gen[e]!, flush: v.flush[e]!, dirty: v.dirty[e]! }));
  const equal = (a: (typeof meta)[number], b: (typeof meta)[number]): boolean => a.gen === b.gen && a.flush === b.flush && a.dirty === b.dirty;
  if (!meta.some((m) => m.dirty || !equal(m, meta[0]!))) return null;
  // Strictly higher wins, so a full tie stays with the client first in `tieOrder`.
  let source = tieOrder[0]!;
  for (const c of tieOrder.slice(1)) {
    const a = meta[c]!;
    const b = meta[source]!;
    if (a.gen > b.gen || (a.gen === b.gen && (a.flush > b.flush || (a.flush === b.flush && a.dirty && !b.dirty)))) source = c;
  }
  const s = meta[source]!;
  const dest = meta.map((_, c) => c).filter((c) => c !== source && (s.dirty || !equal(meta[c]!, s)));
  if (!(dest.length > 0)) panic(`extent ${e}: a fix with no destination`);
  return { source, dest };
}

export function collate(up: Upstairs, versions: readonly ExtentVersionsBody[]): Collation {
  // DownstairsMend::new asserts every client reported the same number of extents.
  for (const v of versions) {
    if (!(v.gen.length === up.region.extentCount && v.flush.length === v.gen.length && v.dirty.length === v.gen.length)) panic(`extent lists of different lengths: ${v.gen.length}, ${v.flush.length}, ${v.dirty.length} for ${up.region.extentCount} extents`);
  }
  let maxGen = 0;
  let maxFlush = 0;
  for (const v of versions) {
    for (const g of v.gen) maxGen = Math.max(maxGen, g);
    for (const f of v.flush) maxFlush = Math.max(maxFlush, f);
  }
  // As the real collate: max_gen and max_flush are one above the highest stored, the activation
  // generation must reach max_gen, and the source of every repair is flushed at (max_flush,
  // max_gen) if it is dirty. So an interrupted reconciliation may leave extents at max_gen, and the
  // same activation tried again is then refused (GenerationNumberTooLow): its generation must be
  // raised.
  const maxGenNext = maxGen + 1;
  if (up.gen === 0) return { kind: 'Refused', reason: 'GenerationZeroIsIllegal' };
  if (up.gen < maxGenNext) return { kind: 'Refused', reason: 'GenerationNumberTooLow' };
  const plan = planReconciliation(up, versions, maxFlush + 1, maxGenNext);
  return plan === null ? { kind: 'Ready', maxFlush } : { kind: 'Repair', plan };
}

/**
 * convert_rc_to_messages: for each extent that needs fixing (extentFix), flush the source at
 * (flushNumber, gen), close the extent everywhere, repair the destinations, reopen it. Null when
 * every extent matches. Also used when all three clients need live repair (upstream then
 * reconciles them: reconcile_from_live_repair_ready).
 */
export function planReconciliation(up: Upstairs, versions: readonly ExtentVersionsBody[], flushNumber: number, gen: number, tieOrder?: readonly number[]): Reconciliation | null {
  const steps: Reconciliation['steps'][number][] = [];
  for (let e = 0; e < up.region.extentCount; e++) {
    const fix = extentFix(versions, e, tieOrder);
    if (fix === null) continue;
    const sourceAddress = up.clients[fix.source]!.address;
    const all = versions.map((_, c) => c);
    steps.push({ targets: [fix.source], message: (repairId): UpstairsMessage => ({ type: 'ExtentFlush', repairId, extent: e, flushNumber, gen }) });
    steps.push({ targets: all, message: (repairId): UpstairsMessage => ({ type: 'ExtentClose', repairId, extent: e }) });
    steps.push({ targets: fix.dest, message: (repairId): UpstairsMessage => ({ type: 'ExtentRepair', repairId, extent: e, source: sourceAddress }) });
    steps.push({ targets: all, message: (repairId): UpstairsMessage => ({ type: 'ExtentReopen', repairId, extent: e }) });
  }
  return steps.length === 0 ? null : { steps, current: null, maxFlush: flushNumber };
}
