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

export function shrinkRun(req: ShrinkRequest): Shrunk {
  const { scenario, bugs, strategy, seed } = req;
  const run = (values: readonly number[] | undefined, trace = false): RunOutcome =>
    execute({ scenario, bugs, seed, strategy, trace, ...(values === undefined ? {} : { tape: { values, labels: null } }) }).outcome;
  const first = run(req.values);
  if (first.violation === null) return { first, result: null, final: null };
  const toShrinkRun = (o: RunOutcome): ShrinkRun => ({ invariant: o.violation?.invariant ?? null, values: o.choices.values, labels: o.choices.labels, steps: o.steps });
  const result = shrinkTape(toShrinkRun(first), (values) => toShrinkRun(run(values)), {
    budgetMs: req.budgetMs,
    now: () => performance.now(),
    ...(req.progress === undefined ? {} : { progress: req.progress }),
  });
  return { first, result, final: run(result.values, true) };
}
