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
import { committedRun, exhibit, museumTapePath, type ExhibitRow } from '../../api/museum.ts';
import type { BugEntry } from '../../api/registry.ts';
import { SHRINK_RUNS } from '../../api/shrink-run.ts';
import { tapeOf } from '../../api/tape.ts';
import { BUGS } from '../../scenarios/index.ts';
import { decisionCount } from '../../sim/choice.ts';
import type { Strategy } from '../../sim/strategy.ts';
import { bugSwitches, nonNegativeInt, one, outputPaths, scenarioNamed, strategyNamed, type Parsed } from '../args.ts';
import { EXIT, usage } from '../exit.ts';
import { museumJunit } from '../junit.ts';
import { checkOutputs, outputs } from '../outputs.ts';
import { packageRoot } from '../package-root.ts';
import { ProgressLine } from '../progress.ts';
import { emitJson } from '../report.ts';
import { writeTape } from '../tape-file.ts';

/** A row of `museum --json`: the exhibit and where its tape is. */
interface MuseumRow extends ExhibitRow {
  readonly tape: string | null;
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
    const row = show(bug, options, say);
    rows.push(row);
    say(rowLine(row));
  }
  const ok = rows.every((r) => r.found && r.reproduced && r.fixedClean);
  if (json !== undefined) emitJson(json, { strategy, ok, dir, bugs: rows }, 'the museum results');
  if (junit !== undefined) outputs.write(junit, museumJunit(rows, strategy), 'the JUnit results');
  return ok ? EXIT.ok : EXIT.violation;
}

/** One bug through api/museum.ts, its tape written (or the committed one kept) and said. */
function show(bug: BugEntry, o: MuseumOptions, say: (line: string) => void): MuseumRow {
  const scenario = scenarioNamed(bug.scenario);
  const path = museumTapePath(o.dir, bug.id);
  const committed = o.update ? committedRun(path, scenario, bug) : null;
  const progress = (text: string, always: boolean): void => {
    if (always || o.progress.due()) o.progress.update(text);
  };
  const found = exhibit(scenario, bug, { strategy: o.strategy, budgetRuns: o.budgetRuns, capMs: o.capMs, committed, progress });
  o.progress.clear();
  if (found.kept !== null && found.shrunk !== null) {
    say(`  kept ${path} (${found.row.shrunkDecisions} decisions, ${found.row.shrunkSteps} steps, still replays; this run's shrink reached ${decisionCount(found.shrunk.choices.values)} decisions, ${found.shrunk.steps} steps)`);
    return { ...found.row, tape: path };
  }
  if (found.write === null) return { ...found.row, tape: null };
  const written = writeTape(path, tapeOf(found.write, { scenario, bugs: [bug.id], strategy: o.strategy, seed: found.seed }), `the shrunk tape of ${bug.id}`);
  if (written === path) say(`  wrote ${path}`);
  return { ...found.row, tape: written };
}

function rowLine(r: MuseumRow): string {
  const found = r.found
    ? `found at seed ${r.seedsToFind} (${r.invariant}), shrunk to ${r.shrunkSteps} steps (${r.shrunkDecisions} decisions; story ${r.storyLines} lines${r.storyLeftOut ? `, ${r.storyLeftOut} left out` : ''}) in ${r.shrinkSeconds}s${r.shrinkCapped ? ' (cut short by the --seconds cap)' : ''}, ${r.reproduced ? 'replays' : 'DOES NOT replay'}`
    : `NOT found in ${r.searchedSeeds} seeds`;
  return `${r.id}: ${found}; fixed protocol ${r.fixedClean ? 'clean' : 'FAILS'} on those seeds`;
}
