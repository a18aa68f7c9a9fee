// Shrink one failing run of a scenario (sim/shrink.ts over execute()), as `shrink` and `museum`
// both do: the first run, the shrinker's result, and the shrunk run traced.

import { performance } from 'node:perf_hooks';
import type { Scenario } from './scenario.ts';
import type { RunOutcome } from '../sim/runner.ts';
import { decisionCount } from '../sim/choice.ts';
import { shrinkTape, type ShrinkProgress, type ShrinkResult, type ShrinkRun } from '../sim/shrink.ts';
import { shrinkDecisions, type Decision } from '../sim/shrink-decisions.ts';
import type { RunConfig } from '../sim/run-config.ts';
import type { Strategy } from '../sim/strategy.ts';
import { execute } from './execute.ts';

/** The default budget of a shrink, in runs (docs/commands.md, `shrink`, for what it buys). */
export const SHRINK_RUNS = 4000;

export interface ShrinkRequest {
  readonly scenario: Scenario;
  readonly bugs: readonly string[];
  readonly strategy: Strategy;
  readonly seed: number;
  /** The run configuration (a tape's); the scenario's own when not given. */
  readonly config?: RunConfig;
  /** Start from this tape instead of the seed. */
  readonly values?: readonly number[];
  /** The budget in runs (shared by the arms): the same request gives the same tape anywhere. */
  readonly budgetRuns: number;
  /** A wall-clock cap; the result says when it cut the shrink short. */
  readonly capMs: number;
  readonly progress?: (s: ShrinkProgress) => void;
}

export interface Shrunk {
  readonly first: RunOutcome;
  /** null when the first run does not fail. */
  readonly result: ShrinkResult | null;
  readonly final: RunOutcome | null;
}

/**
 * How a polishing shrink reads a candidate: a positional tape (sim/shrink.ts), every
 * `alignEvery`-th candidate replayed aligned on its labels (0: never), ordered by steps or by
 * the tape alone.
 */
interface Arm {
  readonly kind: 'tape';
  readonly alignEvery: number;
  readonly order: 'steps' | 'tape';
}

/**
 * First a shrink by decisions keyed by label and occurrence (removing one leaves the others on
 * their questions: the fewest decisions on most bugs), with half the budget of runs; then three
 * shrinks of its result as a positional tape that may not add a decision, each with an equal
 * share of the runs left (one that ends early leaves its runs to the next), to cut its steps:
 * candidates replayed by position; every other candidate replayed aligned on its labels (an edit
 * that removes a draw leaves the choices after it on their own questions: this halves the steps
 * of Crucible takeovers); and candidates ordered by the tape alone. A greedy shrink ends where
 * its path leads, and no one path is best everywhere (docs/commands.md, `shrink`): the result with the
 * fewest decisions is kept, then the fewest steps.
 */
const ARMS: readonly Arm[] = [
  { kind: 'tape', alignEvery: 0, order: 'steps' },
  { kind: 'tape', alignEvery: 2, order: 'steps' },
  { kind: 'tape', alignEvery: 0, order: 'tape' },
];

export function shrinkRun(req: ShrinkRequest): Shrunk {
  const run = (values: readonly number[] | undefined, trace = false): RunOutcome =>
    execute({ ...base(req), trace, ...(values === undefined ? {} : { tape: { values, labels: null } }) }).outcome;
  const first = run(req.values);
  if (first.violation === null) return { first, result: null, final: null };
  const began = performance.now();
  const progress = req.progress === undefined ? null : new BestSoFar(req.progress, first, began);
  const optionsFor = (budgetRuns: number) => ({
    budgetRuns,
    capMs: Math.max(0, req.capMs - (performance.now() - began)),
    now: () => performance.now(),
    ...(progress === null ? {} : { progress: (s: ShrinkProgress) => progress.report(s) }),
  });
  const byDecision = shrinkDecisions(toShrinkRun(first), byDecisions(req), optionsFor(Math.floor(req.budgetRuns / 2)));
  progress?.armDone(byDecision.runs);
  const results: ShrinkResult[] = [byDecision];
  const start = toShrinkRun(run(byDecision.values));
  let runsLeft = req.budgetRuns - byDecision.runs;
  for (const [k, arm] of ARMS.entries()) {
    const result = shrinkTape(start, byTape(req, arm.alignEvery), { ...optionsFor(Math.floor(runsLeft / (ARMS.length - k))), order: arm.order, keepDecisions: true });
    progress?.armDone(result.runs);
    runsLeft -= result.runs;
    results.push(result);
  }
  const decisions = (r: ShrinkResult): number => decisionCount(r.values);
  const better = results.reduce((a, b) => (decisions(b) < decisions(a) || (decisions(b) === decisions(a) && b.steps < a.steps) ? b : a));
  const result: ShrinkResult = { ...better, runs: results.reduce((n, r) => n + r.runs, 0), elapsedMs: performance.now() - began, timedOut: results.some((r) => r.timedOut) };
  return { first, result, final: run(result.values, true) };
}

function base(req: ShrinkRequest): { scenario: Scenario; bugs: readonly string[]; seed: number; strategy: Strategy } {
  return { scenario: req.scenario, bugs: req.bugs, seed: req.seed, strategy: req.strategy, ...(req.config === undefined ? {} : { config: req.config }) };
}

function toShrinkRun(o: RunOutcome): ShrinkRun {
  return { invariant: o.violation?.invariant ?? null, values: o.choices.values, labels: o.choices.labels, bounds: o.choices.bounds, steps: o.steps };
}

/** A candidate is kept only if it fails within `stepCap` steps: stop it there rather than run a schedule that no longer fails through its whole settle phase. */
function capped(stepCap: number): { maxSteps?: number } {
  return stepCap === Infinity ? {} : { maxSteps: stepCap };
}

function byTape(req: ShrinkRequest, alignEvery: number) {
  let n = 0;
  return (values: readonly number[], labels: readonly string[], stepCap: number): ShrinkRun => {
    const aligned = alignEvery > 0 && n++ % alignEvery === alignEvery - 1 && labels.length === values.length;
    return toShrinkRun(execute({ ...base(req), tape: { values, labels, aligned }, ...capped(stepCap) }).outcome);
  };
}

function byDecisions(req: ShrinkRequest) {
  return (decisions: readonly Decision[], stepCap: number): ShrinkRun => toShrinkRun(execute({ ...base(req), keyed: decisions, ...capped(stepCap) }).outcome);
}

/**
 * Progress over the shrinks as a person wants it: the best run so far (each shrink starts
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
