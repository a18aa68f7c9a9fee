// Where everything of a run goes, as plain numbers: which rows are shown (story events, runs of
// the rest folded into one row each, unless unfolded), which row each event sits on, and the
// arrows and fault spans between rows and lanes. Computed in one pass over the events (O(n)) each
// time the folding changes; drawing (run-draw.ts) then only looks things up.

import type { RunDocument } from '../document.ts';

/** A displayed row: one event, or a run of folded events (from..to, inclusive). */
export type Row = { readonly kind: 'event'; readonly i: number } | { readonly kind: 'fold'; readonly from: number; readonly to: number };

/** A message from its send's row and lane to its delivery's (or loss's). */
export interface Arrow {
  readonly fromRow: number;
  readonly toRow: number;
  readonly fromLane: number;
  readonly toLane: number;
  readonly lost: boolean;
  /** The delivering (or losing) event. */
  readonly i: number;
}

/** A fault over rows fromRow..toRow, on runs of adjacent lanes (a partition of a and c leaves b between them clear). */
export interface Span {
  readonly fromRow: number;
  readonly toRow: number;
  readonly laneRuns: readonly (readonly [number, number])[];
  readonly kind: string;
  readonly description: string;
}

export interface Layout {
  readonly rows: readonly Row[];
  /** For each event, the row it is drawn on (its fold's row when folded). */
  readonly rowOf: Int32Array;
  readonly arrows: readonly Arrow[];
  readonly spans: readonly Span[];
}

/** What to fold: nothing (every event), or every run of non-story events but those unfolded. */
export interface Folding {
  readonly storyOnly: boolean;
  readonly unfolded: ReadonlySet<number>;
}

export function layoutOf(doc: RunDocument, lanes: ReadonlyMap<string, number>, folding: Folding): Layout {
  const { rows, rowOf } = rowsOf(doc, folding);
  return { rows, rowOf, arrows: arrowsOf(doc, lanes, rowOf), spans: spansOf(doc, lanes, rowOf, rows.length) };
}

function rowsOf(doc: RunDocument, folding: Folding): { rows: Row[]; rowOf: Int32Array } {
  const rows: Row[] = [];
  const events = doc.events;
  const rowOf = new Int32Array(events.length);
  const shown = (i: number): boolean => !folding.storyOnly || events[i]!.story || folding.unfolded.has(i);
  for (let i = 0; i < events.length; ) {
    if (shown(i)) {
      rowOf[i] = rows.length;
      rows.push({ kind: 'event', i });
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < events.length && !shown(j + 1)) j++;
    for (let k = i; k <= j; k++) rowOf[k] = rows.length;
    rows.push({ kind: 'fold', from: i, to: j });
    i = j + 1;
  }
  return { rows, rowOf };
}

function arrowsOf(doc: RunDocument, lanes: ReadonlyMap<string, number>, rowOf: Int32Array): Arrow[] {
  const arrows: Arrow[] = [];
  for (const e of doc.events) {
    if ((e.kind !== 'deliver' && e.kind !== 'lost') || e.sendIndex === undefined) continue;
    const send = doc.events[e.sendIndex];
    if (send === undefined) continue;
    const fromRow = rowOf[e.sendIndex]!;
    const toRow = rowOf[e.i]!;
    if (fromRow === toRow) continue; // both inside one fold
    arrows.push({ fromRow, toRow, fromLane: lanes.get(send.node) ?? 0, toLane: lanes.get(e.node) ?? 0, lost: e.kind === 'lost', i: e.i });
  }
  return arrows;
}

function spansOf(doc: RunDocument, lanes: ReadonlyMap<string, number>, rowOf: Int32Array, rowCount: number): Span[] {
  const every = doc.nodes.map((_, k) => k);
  return doc.faults.map((f) => {
    const own = f.nodes.map((n) => lanes.get(n)).filter((k): k is number => k !== undefined);
    // A fault naming no lane (a signal to the whole world) shades them all.
    const used = own.length > 0 ? own : every;
    const toRow = f.endIndex === null ? rowCount - 1 : (rowOf[f.endIndex] ?? rowCount - 1);
    return { fromRow: rowOf[f.startIndex] ?? 0, toRow, laneRuns: adjacentRuns(used), kind: f.kind, description: f.description };
  });
}

/** Lane numbers as runs of adjacent lanes: [0, 2, 3] -> [[0, 0], [2, 3]]. */
function adjacentRuns(lanes: readonly number[]): [number, number][] {
  const sorted = [...new Set(lanes)].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const k of sorted) {
    const last = runs.at(-1);
    if (last !== undefined && last[1] === k - 1) last[1] = k;
    else runs.push([k, k]);
  }
  return runs;
}
