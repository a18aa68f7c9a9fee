// One seed of a sweep, run the same way in the main thread and in a worker: the run, and (with
// --check-determinism) a second run whose fingerprint must match. When the two differ, the
// finding names the first step where they part ways (per-step fingerprints of the two runs) and
// both versions of the first event that differs (two traced runs made right after). Two traced
// runs that agree mean the difference was left by runs before them in the same thread: the sweep
// then gives the command that runs those seeds again (cli/commands/sweep.ts).

import type { Scenario } from './scenario.ts';
import { firstDifferentStep, firstDivergentEvent } from '../sim/divergence.ts';
import { DETERMINISM, type RunOutcome } from '../sim/runner.ts';
import type { RunConfig } from '../sim/run-config.ts';
import type { Strategy } from '../sim/strategy.ts';
import { describeRecord } from '../sim/trace.ts';
import { execute, replayCommand, type RunRequest } from './execute.ts';
import type { SearchRun } from './search-runs.ts';

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
  /** The coverage probes the run reached (`sweep --probes` counts the runs that reach each). */
  readonly probes: readonly string[];
}

/** `config`: the run configuration, when not the scenario's own (the library's sweepScenario). */
export function sweepSeed(scenario: Scenario, bugs: readonly string[], seed: number, checkDeterminism: boolean, strategy: Strategy, config?: RunConfig): SeedResult {
  const request: RunRequest = { scenario, bugs, seed, strategy, stepPrints: checkDeterminism, ...(config === undefined ? {} : { config }) };
  const { outcome } = execute(request);
  const replay = replayCommand(scenario, seed, bugs, strategy);
  const v = outcome.violation;
  const probes = [...outcome.sim.probes.keys()];
  if (v !== null) return { steps: outcome.steps, probes, failure: { scenario: scenario.name, seed, invariant: v.invariant, step: v.step, message: v.message, replay } };
  if (!checkDeterminism) return { steps: outcome.steps, probes, failure: null };
  const again = execute(request).outcome;
  if (again.fingerprint === outcome.fingerprint) return { steps: outcome.steps, probes, failure: null };
  const found = divergence(outcome, again, () => execute({ ...request, trace: true }).outcome, `two runs of seed ${seed} in one thread`);
  return { steps: outcome.steps, probes, failure: { scenario: scenario.name, seed, invariant: DETERMINISM, ...found, replay } };
}

/**
 * Two runs that should be one: the step where their fingerprints part, and the two versions of
 * the first event that differs, from two traced runs made now (`traced` makes one).
 */
export function divergence(a: RunOutcome, b: RunOutcome, traced: () => RunOutcome, what: string): { step: number; message: string } {
  const step = firstDifferentStep(a.stepPrints ?? [], b.stepPrints ?? []) ?? Math.min(a.steps, b.steps) + 1;
  const c = traced();
  const d = traced();
  const event = firstDivergentEvent(c, d);
  if (event !== null) {
    const where = event.step === step ? `at step ${step}` : `at step ${step} (two traced runs made after them part at step ${event.step})`;
    return { step, message: `${what} diverge ${where}: the first had '${event.first}', the second '${event.second}'` };
  }
  const record = (c.records ?? []).find((r) => r.step === step && r.event !== 'log');
  const seen = record === undefined ? 'the end of the run' : `'${describeRecord(record)}'`;
  return {
    step,
    message: `${what} diverge at step ${step} (fingerprints ${a.fingerprint} and ${b.fingerprint}); two traced runs made after them agree there (${seen}), so the difference was state left by the runs before them in this thread`,
  };
}

/** A run of a coverage search as a sweep result; its determinism is checked by replaying its tape. */
export function coverageSeedResult(scenario: Scenario, bugs: readonly string[], run: SearchRun, checkDeterminism: boolean): SeedResult {
  const { seed, outcome } = run;
  const v = outcome.violation;
  // The replay command is the failure's tape, which the sweep writes: see saveFailureTape.
  const probes = [...outcome.sim.probes.keys()];
  const failure = (invariant: string, step: number, message: string): SeedResult => ({ steps: outcome.steps, probes, failure: { scenario: scenario.name, seed, invariant, step, message, replay: '' } });
  if (v !== null) return failure(v.invariant, v.step, v.message);
  if (checkDeterminism) {
    const replayOf = (trace: boolean): RunOutcome => execute({ scenario, bugs, seed, strategy: 'coverage', tape: { values: outcome.choices.values, labels: null }, stepPrints: true, trace }).outcome;
    const again = replayOf(false);
    if (again.fingerprint !== outcome.fingerprint) {
      const found = divergence(outcome, again, () => replayOf(true), `run ${seed} of the search and a replay of its tape`);
      return failure(DETERMINISM, found.step, found.message);
    }
  }
  return { steps: outcome.steps, probes, failure: null };
}
