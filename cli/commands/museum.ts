// stairwell museum [--bug ID]... [--strategy S] [--runs N] [--seconds S] [--update | --out DIR] [--json [F.json]] [--junit F.xml] [--quiet]
// For every bug switch in the registry (or those named): sweep its scenario from seed 1 until
// the registry's invariant fails (at most the registry's sweepSeeds, else 2000), shrink that
// failure (--runs each, default 4000; --seconds caps each, default 300), replay the shrunk tape,
// tell its story, and run the fixed protocol over the same seeds. Exit 1 if a bug is missed, its shrunk tape does not reproduce, or a fixed run
// fails.
// The committed tapes under museum/ (which the tests replay) change only with --update, and then
// only where the new tape is shorter or the committed one no longer replays; each file written is
// printed. Without --update the tapes go to --out DIR, or to a new temporary folder it names.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUGS } from '../../scenarios/index.ts';
import { type BugEntry } from '../../api/registry.ts';
import { decisionCount } from '../../sim/choice.ts';
import type { RunOutcome } from '../../sim/runner.ts';
import type { Strategy } from '../../sim/strategy.ts';
import { bugSwitches, nonNegativeInt, one, outputPaths, scenarioNamed, strategyNamed, type Parsed } from '../args.ts';
import { EXIT, usage } from '../exit.ts';
import { execute } from '../../api/execute.ts';
import { museumJunit, type MuseumVerdict } from '../junit.ts';
import { checkOutputs, outputs } from '../outputs.ts';
import { packageRoot } from '../package-root.ts';
import { ProgressLine } from '../progress.ts';
import { emitJson, storyOf } from '../report.ts';
import { runsToFind, searchRuns, seedsFrom } from '../../api/search-runs.ts';
import { SHRINK_RUNS, shrinkRun } from '../../api/shrink-run.ts';
import { readTape, tapeOf } from '../../api/tape.ts';
import { writeTape } from '../tape-file.ts';

const DEFAULT_SEEDS = 2000;

/** Where a bug's shrunk tape lives in a museum folder. */
export function museumTapePath(dir: string, bugId: string): string {
  return join(dir, `${bugId.replace(/\//g, '__')}.json`);
}

interface MuseumRow extends MuseumVerdict {
  readonly shrunkSteps: number | null;
  readonly shrunkDecisions: number | null;
  /** Lines of the shrunk run's story (sim/story.ts): what a person reads. */
  readonly storyLines: number | null;
  /** Lines the story left out to stay within 30 (it says so in its last line). */
  readonly storyLeftOut: number | null;
  /** The wall-clock cap cut the shrink short. */
  readonly shrinkCapped: boolean;
}

interface MuseumOptions {
  readonly strategy: Strategy;
  readonly budgetRuns: number;
  readonly capMs: number;
  readonly dir: string;
  readonly update: boolean;
  readonly progress: ProgressLine;
}

export function museum(p: Parsed): number {
  if (p.positionals.length > 0) usage(`museum takes no arguments but its options, got ${p.positionals.join(' ')}`);
  const only = new Set(bugSwitches(p.flags.get('bug') ?? []));
  const strategy = strategyNamed(one(p, 'strategy'));
  const budgetRuns = nonNegativeInt(one(p, 'runs') ?? String(SHRINK_RUNS), '--runs');
  const capMs = 1000 * nonNegativeInt(one(p, 'seconds') ?? '300', '--seconds');
  const update = p.flags.has('update');
  const out = one(p, 'out');
  if (update && out !== undefined) usage('--update writes the committed museum/; --out DIR writes elsewhere: give one');
  const json = one(p, 'json');
  const junit = one(p, 'junit');
  const committed = join(packageRoot(), 'museum');
  checkOutputs([...outputPaths(p, [['json', 'file'], ['junit', 'file'], ['out', 'dir']]), ...(update ? [{ flag: '--update', path: committed, kind: 'dir' as const }] : [])], []);
  const dir = update ? committed : (out ?? mkdtempSync(join(tmpdir(), 'stairwell-museum-')));
  outputs.makeDir(dir);
  const say = (line: string): void => {
    if (json !== '') process.stdout.write(`${line}\n`);
  };
  if (!update) say(`tapes go to ${dir}${out === undefined ? ' (a new folder; --update writes museum/)' : ''}`);
  const options: MuseumOptions = { strategy, budgetRuns, capMs, dir, update, progress: new ProgressLine({ quiet: json === '' || p.flags.has('quiet') }) };
  const rows: MuseumRow[] = [];
  for (const bug of BUGS.filter((b) => only.size === 0 || only.has(b.id))) {
    const row = exhibit(bug, options, say);
    rows.push(row);
    say(rowLine(row));
  }
  const ok = rows.every((r) => r.found && r.reproduced && r.fixedClean);
  if (json !== undefined) emitJson(json, { strategy, ok, dir, bugs: rows }, 'the museum results');
  if (junit !== undefined) outputs.write(junit, museumJunit(rows, strategy), 'the JUnit results');
  return ok ? EXIT.ok : EXIT.violation;
}

/** One bug: find it, check the fixed protocol on the same seeds, shrink, keep the tape. */
function exhibit(bug: BugEntry, o: MuseumOptions, say: (line: string) => void): MuseumRow {
  const scenario = scenarioNamed(bug.scenario);
  const cap = bug.sweepSeeds ?? DEFAULT_SEEDS;
  o.progress.update(`museum: ${bug.id}: looking for it in up to ${cap} seeds`);
  const hit = runsToFind(scenario, [bug.id], o.strategy, bug.invariant, 1, cap);
  const seed = hit?.seed ?? cap;
  const fixedClean = fixedProtocolClean(bug, o.strategy, seed);
  const row: MuseumRow = { id: bug.id, scenario: bug.scenario, invariant: bug.invariant, found: hit !== null, seedsToFind: hit === null ? null : seed, searchedSeeds: seed, shrunkSteps: null, shrunkDecisions: null, storyLines: null, storyLeftOut: null, shrinkCapped: false, shrinkSeconds: null, reproduced: false, fixedClean, tape: null };
  if (hit === null) return row;
  const shrunk = shrinkRun({
    scenario,
    bugs: [bug.id],
    strategy: o.strategy,
    seed,
    values: hit.outcome.choices.values,
    budgetRuns: o.budgetRuns,
    capMs: o.capMs,
    progress: (s) => {
      if (o.progress.due()) o.progress.update(`museum: ${bug.id}: found at seed ${seed}; shrinking: best ${s.steps} steps, ${s.runs} runs`);
    },
  });
  o.progress.clear();
  const { result, final } = shrunk;
  if (result === null || final === null) return row;
  const path = museumTapePath(o.dir, bug.id);
  const committed = o.update ? committedRun(path, bug) : null;
  const shrinkSeconds = Number((result.elapsedMs / 1000).toFixed(2));
  const shrinkCapped = result.timedOut;
  if (committed !== null && !simpler(final, committed)) {
    say(`  kept ${path} (${decisionCount(committed.choices.values)} decisions, ${committed.steps} steps, still replays; this run's shrink reached ${decisionCount(final.choices.values)} decisions, ${final.steps} steps)`);
    return { ...row, shrunkSteps: committed.steps, shrunkDecisions: decisionCount(committed.choices.values), ...storyCounts(committed), shrinkCapped, shrinkSeconds, reproduced: true, tape: path };
  }
  const written = writeTape(path, tapeOf(final, { scenario, bugs: [bug.id], strategy: o.strategy, seed }), `the shrunk tape of ${bug.id}`);
  if (written === path) say(`  wrote ${path}`);
  // `final` is the shrunk tape replayed by position: whether it reproduces is its verdict.
  return { ...row, shrunkSteps: final.steps, shrunkDecisions: decisionCount(final.choices.values), ...storyCounts(final), shrinkCapped, shrinkSeconds, reproduced: final.violation?.invariant === bug.invariant, tape: written };
}

function storyCounts(outcome: RunOutcome): { storyLines: number | null; storyLeftOut: number | null } {
  const story = storyOf(outcome);
  return { storyLines: story?.lines.length ?? null, storyLeftOut: story?.leftOut ?? null };
}

/** A new shrunk run replaces the committed one if it has fewer decisions, or as many in fewer steps. */
function simpler(a: RunOutcome, b: RunOutcome): boolean {
  const da = decisionCount(a.choices.values);
  const db = decisionCount(b.choices.values);
  return da < db || (da === db && a.steps < b.steps);
}

/** The fixed protocol over the runs that found the bug: the same seeds (a coverage search of as many runs). */
function fixedProtocolClean(bug: BugEntry, strategy: Strategy, seeds: number): boolean {
  for (const r of searchRuns(scenarioNamed(bug.scenario), [], strategy, seedsFrom(1, seeds), 1)) {
    if (r.outcome.violation !== null) return false;
  }
  return true;
}

/** The run of the committed tape at `path` if it still fails the bug's invariant, else null. */
function committedRun(path: string, bug: BugEntry): RunOutcome | null {
  let outcome: RunOutcome;
  try {
    const tape = readTape(path);
    if (tape.scenario !== bug.scenario || tape.bugs.join() !== bug.id) return null;
    const values = tape.choices.map((c) => c[2]);
    outcome = execute({ scenario: scenarioNamed(tape.scenario), bugs: tape.bugs, seed: tape.seed, strategy: strategyNamed(tape.strategy), ...(tape.config === undefined ? {} : { config: tape.config }), tape: { values, labels: tape.choices.map((c) => c[0]) }, trace: true }).outcome;
  } catch {
    return null; // missing or unreadable: the new tape replaces it
  }
  return outcome.violation?.invariant === bug.invariant ? outcome : null;
}

function rowLine(r: MuseumRow): string {
  const found = r.found
    ? `found at seed ${r.seedsToFind} (${r.invariant}), shrunk to ${r.shrunkSteps} steps (${r.shrunkDecisions} decisions; story ${r.storyLines} lines${r.storyLeftOut ? `, ${r.storyLeftOut} left out` : ''}) in ${r.shrinkSeconds}s${r.shrinkCapped ? ' (cut short by the --seconds cap)' : ''}, ${r.reproduced ? 'replays' : 'DOES NOT replay'}`
    : `NOT found in ${r.searchedSeeds} seeds`;
  return `${r.id}: ${found}; fixed protocol ${r.fixedClean ? 'clean' : 'FAILS'} on those seeds`;
}
