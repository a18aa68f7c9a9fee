// Shrink one failing run of a scenario (sim/shrink.ts over execute()), as `shrink` and `museum`
// both do: the first run, the shrinker's result, and the shrunk run traced.

import { performance } from 'node:perf_hooks';
import type { Scenario } from '../scenarios/scenario.ts';
import type { RunOutcome } from '../sim/runner.ts';
import { shrinkTape, type ShrinkProgress, type ShrinkResult, type ShrinkRun } from '../sim/shrink.ts';
import type { Strategy } from '../sim/strategy.ts';
import { execute } from './execute.ts';

export interface ShrinkRequest {
  readonly scenario: Scenario;
  readonly bugs: readonly string[];
  readonly strategy: Strategy;
  readonly seed: number;
  /** Start from this tape instead of the seed. */
  readonly values?: readonly number[];
  readonly budgetMs: number;
  readonly progress?: (s: ShrinkProgress) => void;
}

export interface Shrunk {
  readonly first: RunOutcome;
  /** null when the first run does not fail. */
  readonly result: ShrinkResult | null;
  readonly final: RunOutcome | null;
}

interface Arm {
  /** Every how many candidates one replays aligned on its labels (0: never). */
  readonly alignEvery: number;
  readonly order: 'steps' | 'tape';
}

/**
 * Three shrinks run one after another from the first failing run, each with an equal share of
 * what the budget has left (one that ends early leaves its time to the next), and the result
 * with the fewest steps is kept. A greedy shrink ends where its path leads, and no one path is
 * best everywhere (README, shrink): candidates replayed by position; every other candidate
 * replayed aligned on its labels, so that an edit that removes a draw (no fault, so no fault
 * kind or episode length either) leaves the choices after it on their own questions (this
 * halves the steps of Crucible takeovers); and candidates ordered by the tape alone.
 */
const ARMS: readonly Arm[] = [
  { alignEvery: 0, order: 'steps' },
  { alignEvery: 2, order: 'steps' },
  { alignEvery: 0, order: 'tape' },
];

export function shrinkRun(req: ShrinkRequest): Shrunk {
  const { scenario, bugs, strategy, seed } = req;
  const run = (values: readonly number[] | undefined, trace = false): RunOutcome =>
    execute({ scenario, bugs, seed, strategy, trace, ...(values === undefined ? {} : { tape: { values, labels: null } }) }).outcome;
  const first = run(req.values);
  if (first.violation === null) return { first, result: null, final: null };
  const toShrinkRun = (o: RunOutcome): ShrinkRun => ({ invariant: o.violation?.invariant ?? null, values: o.choices.values, labels: o.choices.labels, bounds: o.choices.bounds, steps: o.steps });
  const replayed = (alignEvery: number) => {
    let n = 0;
    return (values: readonly number[], labels: readonly string[], stepCap: number): ShrinkRun => {
      const aligned = alignEvery > 0 && n++ % alignEvery === alignEvery - 1 && labels.length === values.length;
      // A candidate is kept only if it fails within the steps of the best so far: stop it there
      // rather than run a schedule that no longer fails through its whole settle phase.
      return toShrinkRun(execute({ scenario, bugs, seed, strategy, tape: { values, labels, aligned }, ...(stepCap === Infinity ? {} : { maxSteps: stepCap }) }).outcome);
    };
  };
  const began = performance.now();
  const progress = req.progress === undefined ? null : new BestSoFar(req.progress, first, began);
  const shrinkFor = (arm: Arm, budgetMs: number): ShrinkResult => {
    const result = shrinkTape(toShrinkRun(first), replayed(arm.alignEvery), { budgetMs, order: arm.order, now: () => performance.now(), ...(progress === null ? {} : { progress: (s: ShrinkProgress) => progress.report(s) }) });
    progress?.armDone(result.runs);
    return result;
  };
  const results = ARMS.map((arm, k) => shrinkFor(arm, Math.max(0, req.budgetMs - (performance.now() - began)) / (ARMS.length - k)));
  const better = results.reduce((a, b) => (b.steps < a.steps || (b.steps === a.steps && b.values.length < a.values.length) ? b : a));
  const result: ShrinkResult = { ...better, runs: results.reduce((n, r) => n + r.runs, 0), elapsedMs: performance.now() - began, timedOut: results.some((r) => r.timedOut) };
  return { first, result, final: run(result.values, true) };
}

/**
 * Progress over the three shrinks as a person wants it: the best run so far (each shrink starts
 * again from the first run, so its own reports go back up), runs and time counted across all.
 */
class BestSoFar {
  #steps: number;
  #choices: number;
  #runsBefore = 0;
  #rounds = 0;
  readonly #sink: (s: ShrinkProgress) => void;
  readonly #beganMs: number;

  constructor(sink: (s: ShrinkProgress) => void, first: RunOutcome, beganMs: number) {
    this.#sink = sink;
    this.#beganMs = beganMs;
    this.#steps = first.steps;
    this.#choices = first.choices.values.length;
  }

  report(s: ShrinkProgress): void {
    if (s.steps < this.#steps || (s.steps === this.#steps && s.choices < this.#choices)) {
      this.#steps = s.steps;
      this.#choices = s.choices;
    }
    this.#rounds = Math.max(this.#rounds, s.rounds);
    this.#sink({ steps: this.#steps, choices: this.#choices, runs: this.#runsBefore + s.runs, rounds: this.#rounds, elapsedMs: performance.now() - this.#beganMs });
  }

  armDone(runs: number): void {
    this.#runsBefore += runs;
  }
}
