// Where two runs that should be the same part ways: the first step whose per-step fingerprint
// differs (RunOptions.stepPrints, cheap enough for every run of a determinism check), and, for two
// traced runs, the first event or choice that differs, in both versions. Choices count as much
// as events: two runs can deliver the same messages and still draw differently, which the trace
// alone would not show.

import type { RunOutcome } from './runner.ts';
import { describeRecord, type TraceRecord } from './trace.ts';

/** The first step (1-based) whose fingerprint differs; a run that ends first differs at its end. */
export function firstDifferentStep(a: readonly number[], b: readonly number[]): number | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i + 1;
  return a.length === b.length ? null : n + 1;
}

export interface EventDivergence {
  /** The step both versions belong to (0: while the world was set up). */
  readonly step: number;
  readonly first: string;
  readonly second: string;
}

/** The first event or choice where two traced runs differ, or null if they are the same. */
export function firstDivergentEvent(a: RunOutcome, b: RunOutcome): EventDivergence | null {
  const sa = byStep(a);
  const sb = byStep(b);
  const steps = Math.max(sa.length, sb.length);
  for (let step = 0; step < steps; step++) {
    const x = sa[step] ?? [];
    const y = sb[step] ?? [];
    for (let k = 0; k < Math.max(x.length, y.length); k++) {
      if (x[k]?.key === y[k]?.key) continue;
      return { step, first: x[k]?.line ?? '(nothing more at this step)', second: y[k]?.line ?? '(nothing more at this step)' };
    }
  }
  return null;
}

interface Entry {
  /** What is compared: the whole record, payload included. */
  readonly key: string;
  /** What a person reads. */
  readonly line: string;
}

/** A traced run's events and choices, grouped by the step they belong to. */
function byStep(o: RunOutcome): Entry[][] {
  const steps: Entry[][] = [];
  const at = (step: number): Entry[] => (steps[step] ??= []);
  for (const r of o.records ?? []) at(r.step).push({ key: recordKey(r), line: describeRecord(r) });
  const { labels, values, stepOf } = o.choices;
  if (stepOf !== null) {
    values.forEach((v, i) => {
      const line = `choice ${labels[i]}=${v} (drawn for step ${stepOf[i]})`;
      at(stepOf[i]!).push({ key: line, line });
    });
  }
  return steps;
}

function recordKey(r: TraceRecord): string {
  try {
    return JSON.stringify(r);
  } catch {
    return describeRecord(r);
  }
}
