// The shrinker: cuts a failing tape down while it keeps failing the same invariant (the bug's
// identity), so it never slides onto another bug. It works on the tape, not the seed: a tape is
// the list of choice values a run drew, and a value past its end reads as 0, the simplest
// choice, so every edit leaves a tape that runs. Passes, repeated to a fixpoint or the budget
// (counted in runs, so a shrink is the same on any machine; a wall-clock cap may cut it short,
// and says so): delete spans of choices from large to small (a fault episode, a message, a user
// request are each a few adjacent choices); lower single values (to 0, else by binary search);
// set every choice of one label to 0 at once (all delays shortest, all nemesis draws "no
// fault"); set spans to 0 (which keeps the choices after them in place); raise single values to
// their largest (kept only for fewer steps: a long think time moves what does not matter past
// the failure). A candidate is kept only if its run fails the same invariant in fewer steps, or
// in as many with a smaller tape (shorter, then lexicographically lower), so every round makes
// progress or stops; ordered by the tape alone, only the tape counts, and the result is the run
// with the fewest steps seen.

import { assert } from './assert.ts';
import { decisionCount } from './choice.ts';

export interface ShrinkRun {
  /** The invariant it violated, or null. */
  readonly invariant: string | null;
  /** The choice values the run consumed (cut at the failure). */
  readonly values: readonly number[];
  /** The labels of those choices, if known: the shrinker then also zeroes a label's choices at once. */
  readonly labels?: readonly string[];
  /** How many options each of those choices had, if known: the shrinker then also tries each at its largest. */
  readonly bounds?: readonly number[];
  readonly steps: number;
}

export interface ShrinkOptions {
  /**
   * The budget, in runs: what makes a shrink reproducible (the same input gives the same tape on
   * any machine, fast or slow).
   */
  readonly budgetRuns: number;
  /** A wall-clock cap; hitting it ends the shrink early, and the result says so (timedOut). */
  readonly capMs: number;
  /** The clock of the cap: the caller supplies it so the engine stays free of it. */
  readonly now: () => number;
  readonly progress?: (state: ShrinkProgress) => void;
  /**
   * What makes a candidate better. 'steps' (the default): fewer steps, then a smaller tape.
   * 'tape': a smaller tape alone, as Hypothesis and fast-check order candidates; the shrink may
   * then pass through longer schedules on its way to a shorter one, and its result is the
   * failing run with the fewest steps it saw.
   */
  readonly order?: 'steps' | 'tape';
  /**
   * Never add a decision (a choice off its default): a candidate with more decisions than the
   * current run is not kept, whatever its steps. For polishing a run shrunk by decisions.
   */
  readonly keepDecisions?: boolean;
}

export interface ShrinkProgress {
  readonly choices: number;
  readonly steps: number;
  readonly runs: number;
  readonly rounds: number;
  readonly elapsedMs: number;
}

export interface ShrinkResult extends ShrinkProgress {
  readonly values: readonly number[];
  /** The wall-clock cap cut the shrink short: another machine may shrink the same input further. */
  readonly timedOut: boolean;
}

/** Ordered by the tape alone, candidates may take at most this many times the best run's steps. */
const TAPE_ORDER_STEPS_FACTOR = 2;

/** Trailing zeros are what a tape's end reads as anyway: the canonical tape drops them. */
export function canonical(values: readonly number[]): number[] {
  let end = values.length;
  while (end > 0 && values[end - 1] === 0) end--;
  return values.slice(0, end);
}

function smaller(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return a.length < b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/**
 * Runs a candidate. `labels` are the candidate's own (edits keep them beside the values), so a
 * runner may replay it aligned on labels (sim/choice.ts alignedReplay): then a choice the edited
 * run no longer asks for is skipped instead of shifting every later value onto another question.
 * `stepCap` is the most steps a candidate may take and still be kept: a runner may stop it there.
 */
export type ShrinkRunner = (values: readonly number[], labels: readonly string[], stepCap: number) => ShrinkRun;

export function shrinkTape(start: ShrinkRun, run: ShrinkRunner, options: ShrinkOptions): ShrinkResult {
  const invariant = start.invariant;
  assert(invariant !== null, 'shrinking needs a failing run');
  const began = options.now();
  let current = canonical(start.values);
  let labels = (start.labels ?? []).slice(0, current.length);
  let bounds = (start.bounds ?? []).slice(0, current.length);
  let steps = start.steps;
  const byTape = options.order === 'tape';
  let best = { values: current, steps };
  let runs = 0;
  let rounds = 0;
  let timedOut = false;
  const outOfTime = (): boolean => runs >= options.budgetRuns || (timedOut ||= options.now() - began > options.capMs);
  // The best so far, never the pass's current candidate: progress only ever goes down.
  const report = (): void => options.progress?.({ choices: best.values.length, steps: best.steps, runs, rounds, elapsedMs: options.now() - began });

  /** Keep `candidate` if it fails the same way and ends up smaller. */
  const attempt = (candidate: readonly number[], candidateLabels: readonly string[] = labels): boolean => {
    runs++;
    // Ordered by the tape, a candidate may run longer than the best, but not without bound.
    const r = run(candidate, candidateLabels, byTape ? TAPE_ORDER_STEPS_FACTOR * best.steps : steps);
    if (r.invariant !== invariant) return false;
    const consumed = canonical(r.values);
    // Fewer steps first (what a person reads), then a smaller tape; or the tape alone.
    if (byTape ? !smaller(consumed, current) : r.steps > steps || (r.steps === steps && !smaller(consumed, current))) return false;
    if (options.keepDecisions === true && decisionCount(consumed) > decisionCount(current)) return false;
    current = consumed;
    labels = (r.labels ?? []).slice(0, consumed.length);
    bounds = (r.bounds ?? []).slice(0, consumed.length);
    steps = r.steps;
    if (steps < best.steps || (steps === best.steps && smaller(current, best.values))) best = { values: current, steps };
    return true;
  };

  /** Every choice of one label to 0 at once (every delay shortest, every nemesis draw "no"), most frequent label first. */
  const zeroLabels = (): boolean => {
    let improved = false;
    const counts = new Map<string, number>();
    current.forEach((v, i) => {
      if (v !== 0 && labels[i] !== undefined) counts.set(labels[i]!, (counts.get(labels[i]!) ?? 0) + 1);
    });
    for (const [label] of [...counts].sort((a, b) => b[1] - a[1])) {
      if (outOfTime()) break;
      if (attempt(current.map((v, i) => (labels[i] === label ? 0 : v)))) {
        improved = true;
        report();
      }
    }
    return improved;
  };

  /**
   * One span edit over the tape, spans from the largest power of two down to `minSize`. A
   * deletion tries the same place again after it succeeds (what followed moved into it);
   * zeroing moves on.
   */
  const spanPass = (minSize: number, edit: (i: number, size: number) => [number[], string[]] | null, retryAfterSuccess: boolean): boolean => {
    let improved = false;
    for (let size = 2 ** Math.floor(Math.log2(Math.max(1, current.length))); size >= minSize; size = Math.floor(size / 2)) {
      for (let i = 0; i < current.length && !outOfTime(); ) {
        const candidate = edit(i, size);
        const kept = candidate !== null && attempt(candidate[0], candidate[1]);
        if (kept) {
          improved = true;
          report();
        }
        if (!kept || !retryAfterSuccess) i += size;
      }
    }
    return improved;
  };

  const deleteSpans = (): boolean =>
    spanPass(1, (i, size) => [[...current.slice(0, i), ...current.slice(i + size)], [...labels.slice(0, i), ...labels.slice(i + size)]], true);

  /** Spans of choices to 0: unlike a deletion, the choices after keep their places. */
  const zeroSpans = (): boolean =>
    spanPass(2, (i, size) => {
      const span = current.slice(i, i + size);
      return span.every((v) => v === 0) ? null : [[...current.slice(0, i), ...span.map(() => 0), ...current.slice(i + size)], labels];
    }, false);

  /**
   * Each value to its largest, kept only if the run then fails in fewer steps. The default (0) is
   * the simplest answer, but not always the shortest schedule: the longest think time or gap
   * moves what does not matter to the failure past it, out of the steps a person reads.
   */
  const raiseValues = (): boolean => {
    let improved = false;
    for (let i = 0; i < current.length && !outOfTime(); i++) {
      const top = (bounds[i] ?? 0) - 1;
      if (top <= current[i]!) continue;
      // A larger tape: attempt keeps it only if the run fails in fewer steps.
      if (attempt(withValue(i, top))) {
        improved = true;
        report();
      }
    }
    return improved;
  };

  const withValue = (i: number, value: number): number[] => {
    const candidate = current.slice();
    candidate[i] = value;
    return candidate;
  };

  // Each value: 0 if that still fails, else a binary search down between a value known not to
  // reproduce and one that does (stepping down by one took a round per unit: 160 rounds for a
  // nemesis gap of 161 ms).
  const lowerValues = (): boolean => {
    let improved = false;
    for (let i = 0; i < current.length && !outOfTime(); i++) {
      if (current[i]! === 0) continue;
      if (attempt(withValue(i, 0))) {
        improved = true;
        report();
        continue;
      }
      let lo = 0;
      for (let guard = 0; guard < 64 && i < current.length && current[i]! - lo > 1 && !outOfTime(); guard++) {
        const mid = lo + ((current[i]! - lo) >> 1);
        if (attempt(withValue(i, mid))) {
          improved = true;
          report();
        } else {
          lo = mid;
        }
      }
    }
    return improved;
  };

  // Bounded: each kept candidate is strictly smaller, and the rounds stop at the first that
  // changes nothing (or at the deadline).
  // Cheap passes with large effects first: a label's choices at once are a few runs.
  for (;;) {
    rounds++;
    const deleted = deleteSpans();
    const lowered = lowerValues();
    const zeroed = zeroLabels();
    const spans = zeroSpans();
    const raised = raiseValues();
    if ((!zeroed && !deleted && !spans && !lowered && !raised) || outOfTime()) break;
  }
  report();
  return { values: best.values, steps: best.steps, runs, rounds, elapsedMs: options.now() - began, timedOut, choices: best.values.length };
}
