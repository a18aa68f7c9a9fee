// One seed of a sweep, run the same way in the main thread and in a worker: the run, and (with
// --check-determinism) a second run whose fingerprint must match.

import { join } from 'node:path';
import type { Scenario } from '../scenarios/scenario.ts';
import type { RunOutcome } from '../sim/runner.ts';
import { describeRecord } from '../sim/trace.ts';
import type { Strategy } from '../sim/strategy.ts';
import { execute, replayCommand } from './execute.ts';
import type { SearchRun } from './search-runs.ts';
import { tapeOf, writeTape } from './tape-file.ts';

export interface SweepFailure {
  readonly scenario: string;
  readonly seed: number;
  readonly invariant: string;
  readonly step: number;
  readonly message: string;
  readonly replay: string;
}

export interface SeedResult {
  readonly steps: number;
  readonly failure: SweepFailure | null;
}

export function sweepSeed(scenario: Scenario, bugs: readonly string[], seed: number, checkDeterminism: boolean, strategy: Strategy): SeedResult {
  const { outcome } = execute({ scenario, bugs, seed, strategy });
  const replay = replayCommand(scenario.name, seed, bugs, strategy);
  const v = outcome.violation;
  if (v !== null) return { steps: outcome.steps, failure: { scenario: scenario.name, seed, invariant: v.invariant, step: v.step, message: v.message, replay } };
  if (checkDeterminism && execute({ scenario, bugs, seed, strategy }).outcome.fingerprint !== outcome.fingerprint) {
    return { steps: outcome.steps, failure: { scenario: scenario.name, seed, invariant: 'DETERMINISM', step: 0, message: firstDivergence(scenario, bugs, seed, strategy), replay } };
  }
  return { steps: outcome.steps, failure: null };
}

/** Run the seed twice with full traces and name the first event where they differ. */
function firstDivergence(scenario: Scenario, bugs: readonly string[], seed: number, strategy: Strategy): string {
  const a = execute({ scenario, bugs, seed, strategy, trace: true }).outcome.records ?? [];
  const b = execute({ scenario, bugs, seed, strategy, trace: true }).outcome.records ?? [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] === undefined ? '(end of run)' : describeRecord(a[i]!);
    const y = b[i] === undefined ? '(end of run)' : describeRecord(b[i]!);
    if (x !== y || JSON.stringify(a[i]) !== JSON.stringify(b[i])) return `two runs of the same seed diverge at event ${i}: '${x}' vs '${y}'`;
  }
  return 'two runs of the same seed have different fingerprints but identical traces';
}

/** A run of a coverage search as a sweep result; its determinism is checked by replaying its tape. */
export function coverageSeedResult(scenario: Scenario, bugs: readonly string[], run: SearchRun, checkDeterminism: boolean): SeedResult {
  const { seed, outcome } = run;
  const v = outcome.violation;
  // The replay command is the failure's tape, which the sweep writes: see saveFailureTape.
  const failure = (invariant: string, step: number, message: string): SeedResult => ({ steps: outcome.steps, failure: { scenario: scenario.name, seed, invariant, step, message, replay: '' } });
  if (v !== null) return failure(v.invariant, v.step, v.message);
  if (checkDeterminism) {
    const again = execute({ scenario, bugs, seed, strategy: 'coverage', tape: { values: outcome.choices.values, labels: null } }).outcome;
    if (again.fingerprint !== outcome.fingerprint) return failure('DETERMINISM', 0, `run ${seed} of the search and a replay of its tape have different fingerprints`);
  }
  return { steps: outcome.steps, failure: null };
}

/** Write a failing run's tape under `dir` and return its path; `outcome` is run again from the seed if not given. */
export function saveFailureTape(dir: string, scenario: Scenario, bugs: readonly string[], strategy: Strategy, seed: number, outcome: RunOutcome | null): string {
  const path = join(dir, `${scenario.name}-${strategy}-${seed}.json`);
  writeTape(path, tapeOf(outcome ?? execute({ scenario, bugs, seed, strategy }).outcome, { scenario: scenario.name, bugs, strategy, seed }));
  return path;
}
