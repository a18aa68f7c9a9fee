// The shrinker against fast-check's own shrinking, on the same failing tape. For each registered
// bug: the first failing seed under random; its tape (an array of integers) goes to our shrinker
// (cli/shrink-run.ts) and, as the one example of a fast-check property "this tape does not fail the
// same invariant" over fc.array(fc.nat()), to fast-check, which shrinks a failing example with
// its array shrinker (delete items, then shrink each toward 0). Both get the same time budget;
// each result is run once more to count its steps.

import { performance } from 'node:perf_hooks';
import { decisionCount } from '../sim/choice.ts';
import { BUGS } from '../scenarios/index.ts';
import { type BugEntry } from '../api/registry.ts';
import { findScenario } from '../scenarios/index.ts';
import { execute } from '../api/execute.ts';
import { runsToFind } from '../api/search-runs.ts';
import { SHRINK_RUNS, shrinkRun } from '../api/shrink-run.ts';
import { canonical } from '../sim/shrink.ts';

export interface ShrinkFigures {
  readonly steps: number;
  /** Choices that depart from the default (sim/choice.ts decisionCount). */
  readonly decisions: number;
  readonly choices: number;
  readonly seconds: number;
  readonly sameInvariant: boolean;
  readonly timedOut: boolean;
}

export interface ShrinkComparison {
  readonly id: string;
  readonly seed: number;
  readonly from: { readonly steps: number; readonly choices: number; readonly decisions: number };
  readonly stairwell: ShrinkFigures;
  readonly fastCheck: ShrinkFigures;
}

type FastCheck = typeof import('fast-check');

export function compareShrinking(fc: FastCheck, bug: BugEntry, budgetMs: number): ShrinkComparison | null {
  const scenario = findScenario(bug.scenario)!;
  const hit = runsToFind(scenario, [bug.id], 'random', bug.invariant, 1, Math.max(2000, bug.sweepSeeds ?? 0));
  if (hit === null) return null;
  const tape = hit.outcome.choices.values;
  const run = (values: readonly number[]) => execute({ scenario, bugs: [bug.id], seed: hit.seed, tape: { values, labels: null } }).outcome;
  const figures = (values: readonly number[], seconds: number, timedOut: boolean): ShrinkFigures => {
    const o = run(values);
    return { steps: o.steps, decisions: decisionCount(o.choices.values), choices: canonical(o.choices.values).length, seconds: Number(seconds.toFixed(2)), sameInvariant: o.violation?.invariant === bug.invariant, timedOut };
  };

  const ours = shrinkRun({ scenario, bugs: [bug.id], strategy: 'random', seed: hit.seed, values: tape, budgetRuns: SHRINK_RUNS, capMs: budgetMs });
  const stairwell = figures(ours.result!.values, ours.result!.elapsedMs / 1000, ours.result!.timedOut);

  const maxValue = Math.max(1, ...tape);
  const t0 = performance.now();
  const checked = fc.check(
    fc.property(fc.array(fc.nat({ max: maxValue }), { maxLength: tape.length }), (values) => run(values).violation?.invariant !== bug.invariant),
    { examples: [[tape.slice()]], numRuns: 1, seed: 1, interruptAfterTimeLimit: budgetMs, markInterruptAsFailure: false },
  );
  const seconds = (performance.now() - t0) / 1000;
  const counterexample = (checked.counterexample?.[0] as number[] | undefined) ?? tape;
  const fastCheck = figures(counterexample, seconds, checked.interrupted);
  return { id: bug.id, seed: hit.seed, from: { steps: hit.outcome.steps, choices: tape.length, decisions: decisionCount(tape) }, stairwell, fastCheck };
}

export function shrinkComparisons(fc: FastCheck, budgetMs: number, only: ReadonlySet<string>): ShrinkComparison[] {
  return BUGS.filter((b) => only.size === 0 || only.has(b.id)).flatMap((b) => compareShrinking(fc, b, budgetMs) ?? []);
}
