// The bug museum's work for one bug, as `stairwell museum` does it: sweep its scenario from seed
// 1 until its invariant fails (at most its registry's sweepSeeds, else 2000), run the fixed
// protocol over the same seeds, shrink the failure, and weigh the shrunk run against the tape
// committed before (a new one replaces it only if it is simpler, or if the old one no longer
// fails). Writing the tape and printing are the command line's.

import { join } from 'node:path';
import { decisionCount } from '../sim/choice.ts';
import type { RunOutcome } from '../sim/runner.ts';
import type { Strategy } from '../sim/strategy.ts';
import { storyOf } from '../sim/story.ts';
import { execute } from './execute.ts';
import type { BugEntry } from './registry.ts';
import type { Scenario } from './scenario.ts';
import { runsToFind, searchRuns, seedsFrom } from './search-runs.ts';
import { shrinkRun } from './shrink-run.ts';
import { readTape } from './tape.ts';

/** Seeds a bug is looked for in when its registry entry does not say (`sweepSeeds`). */
export const MUSEUM_SEEDS = 2000;

/** Where a bug's shrunk tape lives in a museum folder. */
export function museumTapePath(dir: string, bugId: string): string {
  return join(dir, `${bugId.replace(/\//g, '__')}.json`);
}

export interface ExhibitRow {
  readonly id: string;
  readonly scenario: string;
  readonly invariant: string;
  readonly found: boolean;
  readonly seedsToFind: number | null;
  readonly searchedSeeds: number;
  readonly fixedClean: boolean;
  /** The shrunk run (or the committed one kept) fails the bug's invariant. */
  readonly reproduced: boolean;
  readonly shrunkSteps: number | null;
  readonly shrunkDecisions: number | null;
  /** Lines of the shrunk run's story (sim/story.ts): what a person reads. */
  readonly storyLines: number | null;
  /** Lines the story left out to stay within 30 (it says so in its last line). */
  readonly storyLeftOut: number | null;
  /** The wall-clock cap cut the shrink short. */
  readonly shrinkCapped: boolean;
  readonly shrinkSeconds: number | null;
}

export interface Exhibit {
  readonly row: ExhibitRow;
  /** The seed the bug was found at (the shrunk tape's seed). */
  readonly seed: number;
  /** The shrunk run to write, or null: nothing found, or the committed tape kept. */
  readonly write: RunOutcome | null;
  /** The committed run, when it was kept as simpler than this shrink's. */
  readonly kept: RunOutcome | null;
  /** This shrink's result, for saying what it reached when the committed tape is kept. */
  readonly shrunk: RunOutcome | null;
}

export interface ExhibitOptions {
  readonly strategy: Strategy;
  readonly budgetRuns: number;
  readonly capMs: number;
  /** The committed tape's run (`committedRun`), to weigh the new shrink against; null: none. */
  readonly committed: RunOutcome | null;
  readonly progress?: (text: string, due: boolean) => void;
}

/** One bug: find it, check the fixed protocol on the same seeds, shrink, weigh against the committed tape. */
export function exhibit(scenario: Scenario, bug: BugEntry, o: ExhibitOptions): Exhibit {
  const cap = bug.sweepSeeds ?? MUSEUM_SEEDS;
  o.progress?.(`museum: ${bug.id}: looking for it in up to ${cap} seeds`, true);
  const hit = runsToFind(scenario, [bug.id], o.strategy, bug.invariant, 1, cap);
  const seed = hit?.seed ?? cap;
  const fixedClean = fixedProtocolClean(scenario, o.strategy, seed);
  const row: ExhibitRow = { id: bug.id, scenario: bug.scenario, invariant: bug.invariant, found: hit !== null, seedsToFind: hit === null ? null : seed, searchedSeeds: seed, shrunkSteps: null, shrunkDecisions: null, storyLines: null, storyLeftOut: null, shrinkCapped: false, shrinkSeconds: null, reproduced: false, fixedClean };
  if (hit === null) return { row, seed, write: null, kept: null, shrunk: null };
  const { result, final } = shrinkRun({
    scenario,
    bugs: [bug.id],
    strategy: o.strategy,
    seed,
    values: hit.outcome.choices.values,
    budgetRuns: o.budgetRuns,
    capMs: o.capMs,
    progress: (s) => o.progress?.(`museum: ${bug.id}: found at seed ${seed}; shrinking: best ${s.steps} steps, ${s.runs} runs`, false),
  });
  if (result === null || final === null) return { row, seed, write: null, kept: null, shrunk: null };
  const timing = { shrinkCapped: result.timedOut, shrinkSeconds: Number((result.elapsedMs / 1000).toFixed(2)) };
  if (o.committed !== null && !simpler(final, o.committed)) {
    return { row: { ...row, ...measured(o.committed), ...timing, reproduced: true }, seed, write: null, kept: o.committed, shrunk: final };
  }
  // `final` is the shrunk tape replayed by position: whether it reproduces is its verdict.
  return { row: { ...row, ...measured(final), ...timing, reproduced: final.violation?.invariant === bug.invariant }, seed, write: final, kept: null, shrunk: final };
}

function measured(outcome: RunOutcome): Pick<ExhibitRow, 'shrunkSteps' | 'shrunkDecisions' | 'storyLines' | 'storyLeftOut'> {
  const story = storyOf(outcome);
  return { shrunkSteps: outcome.steps, shrunkDecisions: decisionCount(outcome.choices.values), storyLines: story?.lines.length ?? null, storyLeftOut: story?.leftOut ?? null };
}

/** A new shrunk run replaces the committed one if it has fewer decisions, or as many in fewer steps. */
function simpler(a: RunOutcome, b: RunOutcome): boolean {
  const da = decisionCount(a.choices.values);
  const db = decisionCount(b.choices.values);
  return da < db || (da === db && a.steps < b.steps);
}

/** The fixed protocol over the runs that found the bug: the same seeds (a coverage search of as many runs). */
function fixedProtocolClean(scenario: Scenario, strategy: Strategy, seeds: number): boolean {
  for (const r of searchRuns(scenario, [], strategy, seedsFrom(1, seeds), 1)) {
    if (r.outcome.violation !== null) return false;
  }
  return true;
}

/** The run of the committed tape at `path` if it is this bug's and still fails its invariant, else null. */
export function committedRun(path: string, scenario: Scenario, bug: BugEntry): RunOutcome | null {
  let outcome: RunOutcome;
  try {
    const tape = readTape(path);
    if (tape.scenario !== bug.scenario || tape.bugs.join() !== bug.id) return null;
    const values = tape.choices.map((c) => c[2]);
    outcome = execute({ scenario, bugs: tape.bugs, seed: tape.seed, strategy: tape.strategy as Strategy, ...(tape.config === undefined ? {} : { config: tape.config }), tape: { values, labels: tape.choices.map((c) => c[0]) }, trace: true }).outcome;
  } catch {
    return null; // missing or unreadable: the new tape replaces it
  }
  return outcome.violation?.invariant === bug.invariant ? outcome : null;
}
