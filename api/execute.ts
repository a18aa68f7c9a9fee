// Run one seed or one tape of a scenario, the way every command does it.

import type { Scenario } from './scenario.ts';
import { scenarioArgument } from './scenario-file.ts';
import { alignedReplay, keyedReplay, seededChoices, TapeReplay, type Divergence } from '../sim/choice.ts';
import type { Decision } from '../sim/shrink-decisions.ts';
import { runSimulation, type RunOptions, type RunOutcome } from '../sim/runner.ts';
import type { RunConfig } from '../sim/run-config.ts';
import type { Strategy } from '../sim/strategy.ts';

export interface RunRequest {
  readonly scenario: Scenario;
  readonly bugs: readonly string[];
  /** The run configuration (a tape's); the scenario's own when not given. */
  readonly config?: RunConfig;
  /** Seeds fill the choices; a tape replays them (and takes precedence). */
  readonly seed: number;
  /** With `aligned`, each choice takes the next tape value of its label (sim/choice.ts alignedReplay). */
  readonly tape?: { readonly values: readonly number[]; readonly labels: readonly string[] | null; readonly aligned?: boolean };
  /** Decisions replayed by label and occurrence, every other draw 0 (sim/shrink-decisions.ts); takes precedence over a tape. */
  readonly keyed?: readonly Decision[];
  readonly trace?: boolean;
  readonly strategy?: Strategy;
  /** Stop the run after this many steps (reported as BOUND-STEPS): a shrink candidate that has not failed by then cannot be kept. */
  readonly maxSteps?: number;
  /** Keep the fingerprint after each step (a determinism check names the first step two runs differ at). */
  readonly stepPrints?: boolean;
  /** Called after every step (sim/runner.ts RunOptions.onStep). */
  readonly onStep?: RunOptions['onStep'];
}

export interface Executed {
  readonly outcome: RunOutcome;
  readonly divergence: Divergence | null;
}

export function execute(req: RunRequest): Executed {
  const full = req.scenario.spec(new Set(req.bugs), req.config);
  const spec = req.maxSteps === undefined ? full : { ...full, config: { ...full.config, maxSteps: Math.min(full.config.maxSteps, req.maxSteps) } };
  const options: RunOptions = { trace: req.trace === true, strategy: req.strategy ?? 'random', stepPrints: req.stepPrints === true, ...(req.onStep === undefined ? {} : { onStep: req.onStep }) };
  if (req.keyed !== undefined) return { outcome: runSimulation(spec, keyedReplay(req.keyed), options), divergence: null };
  if (req.tape?.aligned === true && req.tape.labels !== null) {
    return { outcome: runSimulation(spec, alignedReplay(req.tape.values, req.tape.labels), options), divergence: null };
  }
  if (req.tape !== undefined) {
    const replay = new TapeReplay(req.tape.values, req.tape.labels);
    return { outcome: runSimulation(spec, replay.recorder, options), divergence: replay.divergence };
  }
  return { outcome: runSimulation(spec, seededChoices(String(req.seed)), options), divergence: null };
}

/** The command line that makes this run again (a scenario file is named by its path). */
export function replayCommand(scenario: Scenario, seed: number, bugs: readonly string[], strategy: Strategy = 'random'): string {
  return ['npx stairwell run', scenarioArgument(scenario), '--seed', String(seed), ...bugs.flatMap((b) => ['--bug', b]), ...(strategy === 'random' ? [] : ['--strategy', strategy])].join(' ');
}
