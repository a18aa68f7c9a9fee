// Shrinking by decisions, keyed by label and occurrence. A tape read by position has a flaw for
// shrinking: zero one draw ("no fault here") and the run asks fewer questions after it (no fault
// kind, no episode length), so every later value answers another question and the run becomes a
// different one. Here a run is its set of decisions, each the k-th draw of its label with a value
// (every other draw is 0, the default): removing one leaves every other decision on its own
// question. The shrinker removes decisions in chunks, halving the chunk size (ddmin's order, from
// the end of the run first: late decisions most often do not matter), first each label's apart
// (all of a run's delays at once, then halves of them, ...: the decisions that remain are mostly
// delays, and a chunk of mixed labels more likely holds one the bug needs), then all together;
// then it lowers the values left; until a round changes nothing or the budget of runs is spent. A candidate is kept when it
// fails the same invariant with fewer decisions (or as many, lower), within twice the steps of
// the first run (a candidate is stopped there). Its result is the positional tape of the
// best run, which replays that run exactly.

import { assert } from './assert.ts';
import type { ShrinkOptions, ShrinkResult, ShrinkRun } from './shrink.ts';
import { canonical } from './shrink.ts';

/** The `occurrence`-th draw (0-based) of `label` takes `value`; every draw not listed takes 0. */
export interface Decision {
  readonly label: string;
  readonly occurrence: number;
  readonly value: number;
}

/** Runs a candidate: its decisions replayed by label and occurrence, stopped after `stepCap` steps. */
export type DecisionRunner = (decisions: readonly Decision[], stepCap: number) => ShrinkRun;

/** A run's decisions: its non-zero draws, each keyed by its label and how many of that label came before. */
export function decisionsOf(labels: readonly string[], values: readonly number[]): Decision[] {
  assert(labels.length >= values.length, 'decisions need every draw labelled');
  const seen = new Map<string, number>();
  const out: Decision[] = [];
  values.forEach((value, i) => {
    const label = labels[i]!;
    const occurrence = seen.get(label) ?? 0;
    seen.set(label, occurrence + 1);
    if (value !== 0) out.push({ label, occurrence, value });
  });
  return out;
}

/**
 * A candidate may run at most this many times the first run's steps. Fewer decisions often
 * means a longer run (no think time: more requests; no delay: more polls); measured on museum
 * tapes, a cap relative to the best run so far let runs grow tenfold (1,700 -> 17,535 steps for
 * 1,465 -> 8 decisions), a cap of 1 kept four to seven times the decisions of a cap of 2.
 */
const STEPS_FACTOR = 2;

function better(a: readonly Decision[], b: readonly Decision[]): boolean {
  if (a.length !== b.length) return a.length < b.length;
  let sa = 0;
  let sb = 0;
  for (const d of a) sa += d.value;
  for (const d of b) sb += d.value;
  return sa < sb;
}

class DecisionShrinker {
  decisions: Decision[];
  best: ShrinkRun;
  readonly stepCap: number;
  runs = 0;
  rounds = 0;
  timedOut = false;
  readonly #began: number;

  readonly run: DecisionRunner;
  readonly options: ShrinkOptions;

  constructor(start: ShrinkRun, run: DecisionRunner, options: ShrinkOptions) {
    this.run = run;
    this.options = options;
    assert(start.invariant !== null && start.labels !== undefined, 'shrinking needs a failing, labelled run');
    this.best = start;
    this.stepCap = Math.ceil(STEPS_FACTOR * start.steps);
    this.decisions = decisionsOf(start.labels!, start.values);
    this.#began = options.now();
  }

  spent(): boolean {
    if (this.runs >= this.options.budgetRuns) return true;
    if (this.options.now() - this.#began > this.options.capMs) this.timedOut = true;
    return this.timedOut;
  }

  /** Keep `candidate` if it fails the same way with fewer (or lower) decisions. */
  attempt(candidate: readonly Decision[]): boolean {
    this.runs++;
    const r = this.run(candidate, this.stepCap);
    if (r.invariant !== this.best.invariant || r.labels === undefined) return false;
    const got = decisionsOf(r.labels, r.values);
    if (!better(got, this.decisions)) return false;
    this.decisions = got;
    this.best = r;
    this.report();
    return true;
  }

  report(): void {
    this.options.progress?.({ choices: canonical(this.best.values).length, steps: this.best.steps, runs: this.runs, rounds: this.rounds, elapsedMs: this.options.now() - this.#began });
  }

  /**
   * Remove chunks of the decisions `label` selects (all of them when null), largest first (the
   * first try removes them all), each size walked from the end of the run back.
   */
  removeChunks(label: string | null): boolean {
    let improved = false;
    const selected = (): Decision[] => (label === null ? this.decisions : this.decisions.filter((d) => d.label === label));
    for (let size = 2 ** Math.ceil(Math.log2(Math.max(1, selected().length))); size >= 1; size = Math.floor(size / 2)) {
      for (let end = selected().length; end > 0 && !this.spent(); ) {
        const pool = selected();
        const start = Math.max(0, end - size);
        const drop = new Set(pool.slice(start, end));
        const kept = this.attempt(this.decisions.filter((d) => !drop.has(d)));
        improved ||= kept;
        // After a removal the decisions before `start` are where they were: go on from there.
        end = Math.min(start, selected().length);
      }
    }
    return improved;
  }

  /** Each label's decisions removed apart from the others', the most numerous label first (a run's delays, say). */
  removeByLabel(): boolean {
    let improved = false;
    const counts = new Map<string, number>();
    for (const d of this.decisions) counts.set(d.label, (counts.get(d.label) ?? 0) + 1);
    const labels = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([l]) => l);
    for (const label of labels) {
      if (this.spent()) break;
      improved = this.removeChunks(label) || improved;
    }
    return improved;
  }

  /** Each value left as low as it still fails (0 was tried as a removal): a binary search down. */
  lowerValues(): boolean {
    let improved = false;
    for (let i = 0; i < this.decisions.length && !this.spent(); i++) {
      let lo = 0;
      for (let guard = 0; guard < 64 && i < this.decisions.length && this.decisions[i]!.value - lo > 1 && !this.spent(); guard++) {
        const d = this.decisions[i]!;
        const mid = lo + ((d.value - lo) >> 1);
        if (mid === 0) break;
        const candidate = this.decisions.slice();
        candidate[i] = { ...d, value: mid };
        if (this.attempt(candidate)) improved = true;
        else lo = mid;
      }
    }
    return improved;
  }

  result(): ShrinkResult {
    const values = canonical(this.best.values);
    return { values, steps: this.best.steps, runs: this.runs, rounds: this.rounds, elapsedMs: this.options.now() - this.#began, timedOut: this.timedOut, choices: values.length };
  }
}

export function shrinkDecisions(start: ShrinkRun, run: DecisionRunner, options: ShrinkOptions): ShrinkResult {
  const s = new DecisionShrinker(start, run, options);
  // Bounded: every kept candidate has fewer or lower decisions, and the budget counts runs.
  for (let round = 0; round < 1000 && !s.spent(); round++) {
    s.rounds++;
    const byLabel = s.removeByLabel();
    const removed = s.removeChunks(null);
    const lowered = s.lowerValues();
    if (!byLabel && !removed && !lowered) break;
  }
  s.report();
  return s.result();
}
