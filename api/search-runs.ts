// The runs a strategy makes, one after another, as `sweep`, `museum` and `bench` consume them.
// Under random, swarm and pct, run N is seed N, a run of its own. Under coverage, run N is the
// N-th run of one search (sim/coverage.ts), built from the corpus of the runs before it, so runs
// are made in order and a failure is known by its tape, not its seed.

import type { Scenario } from './scenario.ts';
import { seededChoices } from '../sim/choice.ts';
import { CoverageSearch } from '../sim/coverage.ts';
import { runSimulation, type RunOutcome } from '../sim/runner.ts';
import type { Strategy } from '../sim/strategy.ts';

export interface SearchRun {
  /** The seed (random, swarm, pct) or the run's index in the search (coverage). */
  readonly seed: number;
  readonly outcome: RunOutcome;
}

/** A coverage search of `scenario` is named by where it starts. */
function coverageSearchFor(scenario: Scenario, start: number | string): CoverageSearch {
  return new CoverageSearch(`${scenario.name}:${start}`);
}

/**
 * Run `seeds` in order under `strategy`. Under coverage they are the runs of one search, named
 * by `searchStart` (the same name and order make the same runs).
 */
export function* searchRuns(scenario: Scenario, bugs: readonly string[], strategy: Strategy, seeds: Iterable<number>, searchStart: number | string = 0, stepPrints = false): Generator<SearchRun> {
  const spec = scenario.spec(new Set(bugs));
  const coverage = strategy === 'coverage' ? coverageSearchFor(scenario, searchStart) : null;
  for (const seed of seeds) {
    if (coverage === null) {
      yield { seed, outcome: runSimulation(spec, seededChoices(String(seed)), { strategy, stepPrints }) };
      continue;
    }
    const outcome = runSimulation(spec, coverage.choicesFor(seed), { strategy, coverage: coverage.map, stepPrints });
    coverage.observe(outcome.choices.values);
    yield { seed, outcome };
  }
}

/** Seeds first, first + 1, ... up to `count` of them. */
export function* seedsFrom(first: number, count: number): Generator<number> {
  for (let i = 0; i < count; i++) yield first + i;
}

/** How many runs `strategy` needs, from `first`, to fail `invariant`; null if not within `cap`. */
export function runsToFind(scenario: Scenario, bugs: readonly string[], strategy: Strategy, invariant: string, first: number, cap: number): SearchRun & { readonly runs: number } | null {
  let runs = 0;
  for (const r of searchRuns(scenario, bugs, strategy, seedsFrom(first, cap), first)) {
    runs++;
    if (r.outcome.violation?.invariant === invariant) return { ...r, runs };
  }
  return null;
}
