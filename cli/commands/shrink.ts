// stairwell shrink <F.json> | <scenario> --seed N [--bug ID]... [--strategy S]  [--out F.json] [--seconds S] [--json]
// Cuts a failing run down to a small tape that fails the same invariant (sim/shrink.ts), writes
// that tape, and prints its steps one line each, the violation last. Progress goes to stderr.

import type { Scenario } from '../../scenarios/scenario.ts';
import { decisionCount } from '../../sim/choice.ts';
import { bugSwitches, nonNegativeInt, one, parseArgs, scenarioNamed, singleRunStrategy, strategyNamed } from '../args.ts';
import { shrinkRun } from '../shrink-run.ts';
import { emitJson, stepList, violationJson } from '../report.ts';
import { readTape, tapeOf, writeTape } from '../tape-file.ts';
import { usage } from '../usage-error.ts';

export function shrink(argv: readonly string[]): number {
  const p = parseArgs(argv, { seed: 'value', bug: 'value', strategy: 'value', out: 'value', seconds: 'value', json: 'json' });
  if (p.positionals.length !== 1) usage('shrink takes one tape file, or one scenario with --seed N');
  const input = p.positionals[0]!;
  const fromTape = input.endsWith('.json');
  const tape = fromTape ? readTape(input) : null;
  const scenario: Scenario = scenarioNamed(tape?.scenario ?? input);
  const bugs = bugSwitches(tape?.bugs ?? p.flags.get('bug') ?? []);
  const strategy = tape === null ? singleRunStrategy(one(p, 'strategy'), 'shrink <scenario> --seed N') : strategyNamed(tape.strategy);
  const seedText = one(p, 'seed');
  if (!fromTape && seedText === undefined) usage('shrink <scenario> needs --seed N');
  const seed = tape?.seed ?? nonNegativeInt(seedText!, '--seed');
  const budgetMs = 1000 * nonNegativeInt(one(p, 'seconds') ?? '60', '--seconds');
  const out = one(p, 'out') ?? (fromTape ? input.replace(/\.json$/, '.shrunk.json') : `${scenario.name}-seed${seed}.shrunk.json`);
  const json = one(p, 'json');

  const shrunk = shrinkRun({
    scenario,
    bugs,
    strategy,
    seed,
    ...(tape === null ? {} : { values: tape.choices.map((c) => c[2]) }),
    budgetMs,
    progress: (s) => {
      if (json === undefined) process.stderr.write(`\rshrink: ${s.choices} choices, ${s.steps} steps (${s.runs} runs, round ${s.rounds}, ${(s.elapsedMs / 1000).toFixed(1)}s)   `);
    },
  });
  const { first, result, final } = shrunk;
  if (result === null || final === null || first.violation === null) usage(`${fromTape ? input : `${scenario.name} seed ${seed}`} does not fail: nothing to shrink`);
  if (json === undefined) process.stderr.write('\n');

  writeTape(out, tapeOf(final, { scenario: scenario.name, bugs, strategy, seed }));
  const summary = {
    scenario: scenario.name,
    bugs,
    seed,
    invariant: first.violation.invariant,
    from: { choices: first.choices.values.length, steps: first.steps, decisions: decisionCount(first.choices.values) },
    to: { choices: result.values.length, steps: final.steps, decisions: decisionCount(final.choices.values) },
    runs: result.runs,
    seconds: Number((result.elapsedMs / 1000).toFixed(2)),
    timedOut: result.timedOut,
    violation: violationJson(final.violation),
    tape: out,
  };
  if (json !== undefined) {
    emitJson(json, summary);
    return 1;
  }
  const lines = [
    `${scenario.name} seed ${seed}: ${summary.invariant} kept; ${summary.from.steps} -> ${summary.to.steps} steps, ${summary.from.choices} -> ${summary.to.choices} choices, ${summary.from.decisions} -> ${summary.to.decisions} decisions (${result.runs} runs, ${summary.seconds}s${result.timedOut ? ', out of time' : ''})`,
    ...stepList(final.records ?? [], final.choices).map((line) => `  ${line}`),
    `  => ${final.violation?.invariant}: ${final.violation?.message}`,
    `tape: ${out}  (npx stairwell replay ${out})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 1;
}
