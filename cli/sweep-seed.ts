// One seed of a sweep, run the same way in the main thread and in a worker: the run, and (with
// --check-determinism) a second run whose fingerprint must match.

import type { Scenario } from '../scenarios/scenario.ts';
import { describeRecord } from '../sim/trace.ts';
import type { Strategy } from '../sim/strategy.ts';
import { execute, replayCommand } from './execute.ts';

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
