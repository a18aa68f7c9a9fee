// stairwell museum [--bug ID]... [--strategy S] [--seconds S] [--out DIR] [--json [F.json]]
// For every bug switch in the registry (or those named): sweep its scenario from seed 1 until
// the registry's invariant fails (at most the registry's sweepSeeds, else 2000), shrink that
// failure (--seconds each, default 20), replay the shrunk tape, and run the fixed protocol over
// the same seeds. The shrunk tapes are written to DIR (default museum/), where the tests replay
// them. Exit 1 if a bug is missed, its shrunk tape does not reproduce, or a fixed run fails.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUGS } from '../../scenarios/bugs.ts';
import { bugSwitches, nonNegativeInt, one, parseArgs, scenarioNamed, strategyNamed } from '../args.ts';
import { decisionCount } from '../../sim/choice.ts';
import { runsToFind, searchRuns, seedsFrom } from '../search-runs.ts';
import { emitJson } from '../report.ts';
import { shrinkRun } from '../shrink-run.ts';
import { tapeOf, writeTape } from '../tape-file.ts';

const DEFAULT_SEEDS = 2000;

/** Where a bug's shrunk tape lives. */
export function museumTapePath(dir: string, bugId: string): string {
  return join(dir, `${bugId.replace(/\//g, '__')}.json`);
}

export function museum(argv: readonly string[]): number {
  const p = parseArgs(argv, { bug: 'value', strategy: 'value', seconds: 'value', out: 'value', json: 'json' });
  const only = new Set(bugSwitches(p.flags.get('bug') ?? []));
  const strategy = strategyNamed(one(p, 'strategy'));
  const budgetMs = 1000 * nonNegativeInt(one(p, 'seconds') ?? '20', '--seconds');
  const dir = one(p, 'out') ?? 'museum';
  const json = one(p, 'json');
  mkdirSync(dir, { recursive: true });
  const rows = [];
  for (const bug of BUGS.filter((b) => only.size === 0 || only.has(b.id))) {
    const scenario = scenarioNamed(bug.scenario);
    const cap = bug.sweepSeeds ?? DEFAULT_SEEDS;
    const hit = runsToFind(scenario, [bug.id], strategy, bug.invariant, 1, cap);
    const found = hit !== null;
    const seed = hit?.seed ?? cap;
    // The fixed protocol over the same runs: the same seeds (a coverage search of as many runs).
    let fixedClean = true;
    for (const r of searchRuns(scenario, [], strategy, seedsFrom(1, seed), 1)) {
      if (r.outcome.violation !== null) {
        fixedClean = false;
        break;
      }
    }
    const row = { id: bug.id, scenario: bug.scenario, invariant: bug.invariant, found, seedsToFind: found ? seed : null, shrunkSteps: null as number | null, shrunkDecisions: null as number | null, shrinkSeconds: null as number | null, reproduced: false, fixedClean, tape: null as string | null };
    if (found) {
      const { result, final } = shrinkRun({ scenario, bugs: [bug.id], strategy, seed, values: hit.outcome.choices.values, budgetMs });
      if (result !== null && final !== null) {
        const path = museumTapePath(dir, bug.id);
        writeTape(path, tapeOf(final, { scenario: scenario.name, bugs: [bug.id], strategy, seed }));
        // `final` is the shrunk tape replayed by position: whether it reproduces is its verdict.
        Object.assign(row, { shrunkSteps: final.steps, shrunkDecisions: decisionCount(final.choices.values), shrinkSeconds: Number((result.elapsedMs / 1000).toFixed(2)), reproduced: final.violation?.invariant === bug.invariant, tape: path });
      }
    }
    rows.push(row);
    if (json !== '') {
      process.stdout.write(
        `${bug.id}: ${found ? `found at seed ${seed} (${bug.invariant}), shrunk to ${row.shrunkSteps} steps (${row.shrunkDecisions} decisions) in ${row.shrinkSeconds}s, ${row.reproduced ? 'replays' : 'DOES NOT replay'}` : `NOT found in ${cap} seeds`}; fixed protocol ${fixedClean ? 'clean' : 'FAILS'} on those seeds\n`,
      );
    }
  }
  const ok = rows.every((r) => r.found && r.reproduced && r.fixedClean);
  if (json !== undefined) emitJson(json, { strategy, ok, bugs: rows });
  return ok ? 0 : 1;
}
