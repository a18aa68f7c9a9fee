// The fast-check bridge: a scenario as a fast-check property, for a user's own test suite.
// - `seeds()`: an arbitrary of seeds; fast-check shrinks a failing seed toward 1 (seeds are not
//   ordered by simplicity, so `stairwell shrink` is what makes the failure small).
// - `tapes(scenario)`: an arbitrary of tapes whose every value is in range. A tape is drawn as a
//   list of 32-bit draws, and the k-th choice `choose(label, n)` of the run takes draw k scaled
//   into [0, n) (past the end: 0, the simplest answer), so every draw means something and 0
//   means "no fault, shortest delay, first event"; fast-check's shrinking of the draws (shorter,
//   toward 0) is then a shrinking of the schedule. Raw tapes of `fc.nat()` would be clamped to
//   each choice's range and mean "always the last option".
// - `scenarioProperty(scenario, arbitrary, options)`: a property that fails with the violation,
//   writes the failing tape (the last one written is fast-check's final counterexample) and names
//   the command that replays it; `assertScenario` checks it and throws (and prints) the final one.
// fast-check is a peer dependency: the user's own copy is the one that runs.

import fc from 'fast-check';
import { mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ChoiceRecorder } from '../sim/choice.ts';
import type { RunConfig } from '../sim/run-config.ts';
import { runSimulation, type RunOutcome } from '../sim/runner.ts';
import { execute, replayCommand } from './execute.ts';
import { scenarioArgument } from './scenario-file.ts';
import type { Scenario } from './scenario.ts';
import { tapeOf, type TapeFile } from './tape.ts';
import { writeTape } from './run.ts';

const DRAW_RANGE = 2 ** 32;

export interface BridgeOptions {
  readonly bugs?: readonly string[];
  readonly config?: RunConfig;
  /** Where a failing tape is written (default: ./stairwell-failures). */
  readonly tapeDir?: string;
}

/** Seeds in [min, max] (default 1..2^32-1). */
export function seeds(range: { readonly min?: number; readonly max?: number } = {}): fc.Arbitrary<number> {
  return fc.integer({ min: range.min ?? 1, max: range.max ?? DRAW_RANGE - 1 });
}

/** Runs already made while drawing a tape, so the property does not make them twice. */
const drawnRuns = new WeakMap<TapeFile, RunOutcome>();

/** Tapes of `scenario` (with `bugs` on) whose values are all in range: see the header. */
export function tapes(scenario: Scenario, options: BridgeOptions & { readonly maxDraws?: number } = {}): fc.Arbitrary<TapeFile> {
  const bugs = options.bugs ?? [];
  return fc.array(fc.nat({ max: DRAW_RANGE - 1 }), { maxLength: options.maxDraws ?? 4_000 }).map((draws) => {
    const choices = new ChoiceRecorder((_label, n, index) => (index < draws.length ? Math.floor((draws[index]! * n) / DRAW_RANGE) : 0));
    const outcome = runSimulation(scenario.spec(new Set(bugs), options.config), choices);
    const tape = tapeOf(outcome, { scenario, bugs, strategy: 'random', seed: 0 });
    drawnRuns.set(tape, outcome);
    return tape;
  });
}

/** The error a failing scenario property throws: the violation, and how to see it again. */
export class ScenarioFailure extends Error {
  override name = 'ScenarioFailure';
  readonly replay: string;
  constructor(message: string, replay: string) {
    super(`${message}\n    replay: ${replay}`);
    this.replay = replay;
  }
}

/** A property over seeds or tapes of `scenario`: it holds when the run breaks no invariant. */
export function scenarioProperty(scenario: Scenario, arbitrary: fc.Arbitrary<number | TapeFile>, options: BridgeOptions = {}): fc.IPropertyWithHooks<[number | TapeFile]> {
  return fc.property(arbitrary, (input) => {
    const outcome = typeof input === 'number' ? seedRun(scenario, input, options) : tapeRun(scenario, input, options);
    const v = outcome.violation;
    if (v === null) return;
    const tape = typeof input === 'number' ? tapeOf(outcome, { scenario, bugs: options.bugs ?? [], strategy: 'random', seed: input }) : input;
    const path = saveTape(scenario, tape, options);
    const replay = typeof input === 'number' ? replayCommand(scenario, input, options.bugs ?? []) : `npx stairwell replay ${relative(process.cwd(), path)}`;
    throw new ScenarioFailure(`${scenarioArgument(scenario)}: ${v.invariant} at step ${v.step}: ${v.message} (tape: ${path})`, replay);
  });
}

/**
 * Check `scenarioProperty` as `fc.assert` does, but on failure throw (and print on stderr) the
 * final counterexample's violation, its tape and its replay command, not fast-check's report of
 * a counterexample thousands of choices long.
 */
export function assertScenario(scenario: Scenario, arbitrary: fc.Arbitrary<number | TapeFile>, options: BridgeOptions & { readonly numRuns?: number; readonly seed?: number } = {}): void {
  const details = fc.check(scenarioProperty(scenario, arbitrary, options), { numRuns: options.numRuns ?? 100, ...(options.seed === undefined ? {} : { seed: options.seed }) });
  if (!details.failed) return;
  const failure = details.errorInstance;
  if (!(failure instanceof ScenarioFailure)) throw new Error(fc.defaultReportMessage(details) ?? 'the property failed');
  const found = new ScenarioFailure(`${failure.message.split('\n')[0]!} (fast-check: ${details.numRuns} runs, shrunk ${details.numShrinks} times, fc seed ${details.seed})`, failure.replay);
  process.stderr.write(`${found.message}\n`);
  throw found;
}

function seedRun(scenario: Scenario, seed: number, options: BridgeOptions): RunOutcome {
  return execute({ scenario, bugs: options.bugs ?? [], seed, ...(options.config === undefined ? {} : { config: options.config }) }).outcome;
}

function tapeRun(scenario: Scenario, tape: TapeFile, options: BridgeOptions): RunOutcome {
  const drawn = drawnRuns.get(tape);
  if (drawn !== undefined) return drawn;
  const values = tape.choices.map((c) => c[2]);
  const config = tape.config ?? options.config;
  return execute({ scenario, bugs: tape.bugs, seed: tape.seed, ...(config === undefined ? {} : { config }), tape: { values, labels: null } }).outcome;
}

/** One file per scenario and switches: fast-check's last failure (its final counterexample) is the one left. */
function saveTape(scenario: Scenario, tape: TapeFile, options: BridgeOptions): string {
  const dir = resolve(options.tapeDir ?? 'stairwell-failures');
  mkdirSync(dir, { recursive: true });
  const name = [scenario.name, ...(options.bugs ?? []).map((b) => b.replace(/\W+/g, '_'))].join('-');
  const path = join(dir, `${name}.json`);
  writeTape(path, tape);
  return path;
}
