// Two traced runs side by side: aligned event by event, and where they first part ways. Events
// are compared whole (kind, node, peer, payload, text) and with their virtual time, so a message
// that now arrives a millisecond later is a difference. After the first difference the runs are
// realigned as they go: an event one side has and the other lacks is shown against a blank, an
// event both have but changed is shown against its counterpart; looking ahead at most
// RESYNC_WINDOW events on either side keeps it linear in the runs' length.

import type { TraceRecord } from './trace.ts';

/** Pairs of indices into the two runs' records; null where one side has no counterpart. */
export type AlignedPair = readonly [number | null, number | null];

export interface TraceAlignment {
  readonly pairs: readonly AlignedPair[];
  /** Index into `pairs` of the first pair that differs, or null if the runs are the same. */
  readonly firstDivergence: number | null;
  /** How many pairs differ (changed, or on one side only). */
  readonly differing: number;
}

const RESYNC_WINDOW = 64;

/** What an event is, without when: two runs resynchronise on it. */
export function eventKey(r: TraceRecord): string {
  return `${r.event}|${r.node}|${r.from ?? ''}|${r.to ?? ''}|${r.envelope ?? ''}|${JSON.stringify(r.message) ?? ''}|${r.text ?? ''}`;
}

/** Whether two events are the same event at the same virtual time. */
export function sameEvent(a: TraceRecord, b: TraceRecord): boolean {
  return a.timeMs === b.timeMs && eventKey(a) === eventKey(b);
}

export function alignTraces(a: readonly TraceRecord[], b: readonly TraceRecord[]): TraceAlignment {
  const ka = a.map(eventKey);
  const kb = b.map(eventKey);
  const pairs: AlignedPair[] = [];
  let first: number | null = null;
  let differing = 0;
  const emit = (pair: AlignedPair): void => {
    const [i, j] = pair;
    const differs = i === null || j === null || !sameEvent(a[i]!, b[j]!);
    if (differs) {
      differing++;
      first ??= pairs.length;
    }
    pairs.push(pair);
  };
  let i = 0;
  let j = 0;
  // Bounded: every round consumes at least one event of one side.
  while (i < a.length || j < b.length) {
    if (i >= a.length) emit([null, j++]);
    else if (j >= b.length) emit([i++, null]);
    else if (ka[i] === kb[j]) emit([i++, j++]);
    else {
      const skip = resync(ka, kb, i, j);
      if (skip === null) emit([i++, j++]);
      else if (skip.left > 0) for (let s = 0; s < skip.left; s++) emit([i++, null]);
      else for (let s = 0; s < skip.right; s++) emit([null, j++]);
    }
  }
  return { pairs, firstDivergence: first, differing };
}

/** The fewest events to skip on one side so that the two sides meet again, within the window. */
function resync(ka: readonly string[], kb: readonly string[], i: number, j: number): { left: number; right: number } | null {
  for (let d = 1; d <= RESYNC_WINDOW; d++) {
    if (i + d < ka.length && ka[i + d] === kb[j]) return { left: d, right: 0 };
    if (j + d < kb.length && ka[i] === kb[j + d]) return { left: 0, right: d };
  }
  return null;
}
