// Collation and reconciliation (crucible 6d037cb6: upstairs.rs connect_region_set,
// downstairs.rs collate, mend.rs). With all three clients in WaitQuorum, the upstairs checks the
// activation generation against every stored extent generation (0 and anything not above them are
// refused, and disable the upstairs), then compares extents: one that differs across the three,
// or is dirty anywhere, is repaired from the highest (gen, flush, dirty), ties to the lowest
// client: the source is flushed at (max_flush, max_gen), then every other client copies the extent
// from the source's repair server. Each step is finished on its clients before the next. An error
// or a client lost aborts it: the clients reconnect as New and the upstairs stays GoActive.

import type { ExtentVersionsBody, UpstairsMessage } from '../protocol.ts';
import type { Reconciliation, Upstairs } from './context.ts';

export type Collation =
  | { readonly kind: 'Refused'; readonly reason: 'GenerationZeroIsIllegal' | 'GenerationNumberTooLow' }
  | { readonly kind: 'Ready'; readonly maxFlush: number }
  | { readonly kind: 'Repair'; readonly plan: Reconciliation };

export function collate(up: Upstairs, versions: readonly ExtentVersionsBody[]): Collation {
  let maxGen = 0;
  let maxFlush = 0;
  for (const v of versions) {
    for (const g of v.gen) maxGen = Math.max(maxGen, g);
    for (const f of v.flush) maxFlush = Math.max(maxFlush, f);
  }
  // As the real collate: max_gen and max_flush are one above the highest stored, the activation
  // generation must reach max_gen, and the source of every repair is flushed at (max_flush,
  // max_gen). So an interrupted reconciliation leaves extents at max_gen, and the same activation
  // tried again is refused (GenerationNumberTooLow): its generation must be raised.
  const maxGenNext = maxGen + 1;
  if (up.gen === 0) return { kind: 'Refused', reason: 'GenerationZeroIsIllegal' };
  if (up.gen < maxGenNext) return { kind: 'Refused', reason: 'GenerationNumberTooLow' };
  const steps: Reconciliation['steps'][number][] = [];
  const flushNumber = maxFlush + 1;
  for (let e = 0; e < up.region.extentCount; e++) {
    const meta = versions.map((v) => ({ gen: v.gen[e]!, flush: v.flush[e]!, dirty: v.dirty[e]! }));
    const same = meta.every((m) => m.gen === meta[0]!.gen && m.flush === meta[0]!.flush && m.dirty === meta[0]!.dirty);
    if (same && !meta.some((m) => m.dirty)) continue;
    let source = 0;
    for (let c = 1; c < meta.length; c++) {
      const a = meta[c]!;
      const b = meta[source]!;
      if (a.gen > b.gen || (a.gen === b.gen && (a.flush > b.flush || (a.flush === b.flush && a.dirty && !b.dirty)))) source = c;
    }
    const dests = meta.map((_, c) => c).filter((c) => c !== source);
    const sourceAddress = up.clients[source]!.address;
    steps.push({ targets: [source], message: (repairId): UpstairsMessage => ({ type: 'ExtentFlush', repairId, extent: e, flushNumber, gen: maxGenNext }) });
    steps.push({ targets: dests, message: (repairId): UpstairsMessage => ({ type: 'ExtentRepair', repairId, extent: e, source: sourceAddress }) });
  }
  if (steps.length === 0) return { kind: 'Ready', maxFlush };
  return { kind: 'Repair', plan: { steps, current: null, maxFlush: flushNumber } };
}
