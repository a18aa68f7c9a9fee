// Search power: how many runs each strategy needs to find each registered bug, over several
// independent starts (seeds start at 1, 100001, 200001, ...; a coverage search is seeded by its
// start), as medians. A start that does not find the bug within `cap` runs counts as cap + 1,
// so a median above the cap reads as "not found by most starts".

import { BUGS } from '../scenarios/index.ts';
import { type BugEntry } from '../api/registry.ts';
import { findScenario } from '../scenarios/index.ts';
import { STRATEGIES, type Strategy } from '../sim/strategy.ts';
import { runsToFind } from '../api/search-runs.ts';
import { median } from './throughput.ts';

export interface StrategyPower {
  readonly median: number;
  /** Runs to find it from each start, in start order (cap + 1: not found). */
  readonly runs: readonly number[];
}

export interface BugPower {
  readonly id: string;
  readonly scenario: string;
  readonly invariant: string;
  readonly cap: number;
  readonly strategies: Record<Strategy, StrategyPower>;
  /** The non-random strategy with the lowest median, and its median over random's. */
  readonly best: Strategy;
  readonly bestToRandom: number;
}

const START_STRIDE = 100_000;

export function bugPower(bug: BugEntry, starts: number, capFloor: number): BugPower {
  const scenario = findScenario(bug.scenario)!;
  const cap = Math.max(capFloor, bug.sweepSeeds ?? 0);
  const strategies = {} as Record<Strategy, StrategyPower>;
  for (const strategy of STRATEGIES) {
    const runs = Array.from({ length: starts }, (_, k) => runsToFind(scenario, [bug.id], strategy, bug.invariant, 1 + k * START_STRIDE, cap)?.runs ?? cap + 1);
    strategies[strategy] = { median: median(runs), runs };
  }
  const best = STRATEGIES.filter((s) => s !== 'random').reduce((a, b) => (strategies[b].median < strategies[a].median ? b : a));
  return { id: bug.id, scenario: bug.scenario, invariant: bug.invariant, cap, strategies, best, bestToRandom: Number((strategies[best].median / strategies.random.median).toFixed(3)) };
}

export function searchPower(starts: number, capFloor: number, only: ReadonlySet<string>): BugPower[] {
  return BUGS.filter((b) => only.size === 0 || only.has(b.id)).map((b) => bugPower(b, starts, capFloor));
}
