// The library's way to run a scenario: one seed, a sweep of seeds, a shrink of a failure, a replay
// of a tape, each returning plain data (and the tape that makes the run again), the same runs the
// command line makes. A user's own test or tool calls these; nothing here prints.

import { writeFileSync } from 'node:fs';
import type { RunConfig } from '../sim/run-config.ts';
import type { RunOutcome, Violation } from '../sim/runner.ts';
import type { Strategy } from '../sim/strategy.ts';
import { storyOf } from '../sim/story.ts';
import { execute, replayCommand } from './execute.ts';
import { InputError } from './input-error.ts';
import type { Scenario } from './scenario.ts';
import { SHRINK_RUNS, shrinkRun } from './shrink-run.ts';
import { sweepSeed, type SweepFailure } from './sweep-seed.ts';
import { tapeOf, tapeText, type TapeFile } from './tape.ts';

export interface RunOptions {
  readonly seed: number;
  /** Bug switches to turn on (ids of the scenario's registry). */
  readonly bugs?: readonly string[];
  readonly strategy?: Exclude<Strategy, 'coverage'>;
  /** The run configuration; the scenario's defaults when not given. */
  readonly config?: RunConfig;
}

export interface RunResult {
  readonly ok: boolean;
  readonly violation: Violation | null;
  readonly steps: number;
  readonly timeMs: number;
  readonly fingerprint: string;
  /** The run's choices and what it ran: `writeTape` saves it, `stairwell replay` runs it again. */
  readonly tape: TapeFile;
  /**
   * The command line that makes this run again from its seed, or null when only its tape does
   * (a shrunk or replayed run: `writeTape(path, result.tape)`, then `npx stairwell replay path`).
   */
  readonly replay: string | null;
  /** The story of a violation (at most 30 lines, the events that led to it), else null. */
  readonly story: readonly string[] | null;
}

/** Run one seed of `scenario`. */
export function runScenario(scenario: Scenario, options: RunOptions): RunResult {
  const bugs = options.bugs ?? [];
  const strategy = options.strategy ?? 'random';
  const request = { scenario, bugs, seed: options.seed, strategy, ...(options.config === undefined ? {} : { config: options.config }) };
  const first = execute(request).outcome;
  // A failure is run again traced (runs are deterministic), so passing runs stay fast.
  const outcome = first.ok ? first : execute({ ...request, trace: true }).outcome;
  return resultOf(scenario, outcome, bugs, strategy, options.seed, replayCommand(scenario, options.seed, bugs, strategy));
}

export interface SweepOptions {
  /** The seeds to run, in order: `{ from: 1, to: 500 }` or any iterable of seeds. */
  readonly seeds: { readonly from: number; readonly to: number } | Iterable<number>;
  readonly bugs?: readonly string[];
  readonly strategy?: Exclude<Strategy, 'coverage'>;
  readonly config?: RunConfig;
  /** Stop after this many failures (default: no limit). */
  readonly maxFailures?: number;
}

export interface SweepReport {
  readonly scenario: string;
  readonly seeds: number;
  readonly failures: readonly SweepFailure[];
}

/** Run many seeds of `scenario` in this thread (the command line's `sweep` spreads them over cores). */
export function sweepScenario(scenario: Scenario, options: SweepOptions): SweepReport {
  const bugs = options.bugs ?? [];
  const strategy = options.strategy ?? 'random';
  const failures: SweepFailure[] = [];
  let seeds = 0;
  for (const seed of seedsOf(options.seeds)) {
    if (failures.length >= (options.maxFailures ?? Infinity)) break;
    seeds++;
    const { failure } = sweepSeed(scenario, bugs, seed, false, strategy, options.config);
    if (failure !== null) failures.push(failure);
  }
  return { scenario: scenario.name, seeds, failures };
}

function seedsOf(seeds: SweepOptions['seeds']): Iterable<number> {
  if (!('from' in seeds)) return seeds;
  const { from, to } = seeds;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to) throw new InputError(`seeds ${from}..${to}: not a range of seeds`);
  return (function* range(): Generator<number> {
    for (let seed = from; seed <= to; seed++) yield seed;
  })();
}

export interface ShrinkOptions {
  /** The failing run: a seed (with `bugs`, `strategy`) or a tape. */
  readonly seed?: number;
  readonly tape?: TapeFile;
  readonly bugs?: readonly string[];
  readonly strategy?: Exclude<Strategy, 'coverage'>;
  /** The budget in runs (default 4000); the same request gives the same tape anywhere. */
  readonly budgetRuns?: number;
  /** A wall-clock cap, in ms (default 300 s). */
  readonly capMs?: number;
}

/** Shrink a failing run to fewer decisions and steps that still break the same invariant; null if it does not fail. */
export function shrinkFailure(scenario: Scenario, options: ShrinkOptions): RunResult | null {
  const tape = options.tape;
  const bugs = tape?.bugs ?? options.bugs ?? [];
  const strategy = (tape?.strategy ?? options.strategy ?? 'random') as Strategy;
  const seed = tape?.seed ?? options.seed;
  if (seed === undefined) throw new InputError('shrink needs a seed or a tape');
  const shrunk = shrinkRun({
    scenario,
    bugs,
    strategy,
    seed,
    ...(tape === undefined ? {} : { values: tape.choices.map((c) => c[2]) }),
    ...(tape?.config === undefined ? {} : { config: tape.config }),
    budgetRuns: options.budgetRuns ?? SHRINK_RUNS,
    capMs: options.capMs ?? 300_000,
  });
  if (shrunk.final === null) return null;
  return resultOf(scenario, shrunk.final, bugs, strategy, seed, null);
}

/** Run a tape again (of `scenario`, which must be the one it names). */
export function replayTape(scenario: Scenario, tape: TapeFile): RunResult {
  if (tape.scenario !== scenario.name) throw new InputError(`the tape is of scenario ${tape.scenario}, not ${scenario.name}`);
  const strategy = tape.strategy as Strategy;
  const values = tape.choices.map((c) => c[2]);
  const labels = tape.choices.map((c) => c[0]);
  const { outcome } = execute({ scenario, bugs: tape.bugs, seed: tape.seed, strategy, ...(tape.config === undefined ? {} : { config: tape.config }), tape: { values, labels }, trace: true });
  return resultOf(scenario, outcome, tape.bugs, strategy, tape.seed, null);
}

/** Save a tape as `stairwell replay` reads it (one choice per line, so it diffs well). */
export function writeTape(path: string, tape: TapeFile): void {
  writeFileSync(path, tapeText(tape));
}

function resultOf(scenario: Scenario, outcome: RunOutcome, bugs: readonly string[], strategy: Strategy, seed: number, replay: string | null): RunResult {
  const v = outcome.violation;
  const story = storyOf(outcome)?.lines ?? null;
  return {
    ok: outcome.ok,
    violation: v,
    steps: outcome.steps,
    timeMs: outcome.timeMs,
    fingerprint: outcome.fingerprint,
    tape: tapeOf(outcome, { scenario, bugs, strategy, seed }),
    replay,
    story,
  };
}
