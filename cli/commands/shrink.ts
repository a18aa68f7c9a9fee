// stairwell shrink <F.json> | <scenario> --seed N [--bug ID]... [--strategy S] [--out F.json] [--runs N] [--seconds S]
//                 [--all | --last N] [--node ID] [--entity ID] [--json] [--quiet]
// Cuts a failing run down to a small tape that fails the same invariant (cli/shrink-run.ts),
// writes that tape, and prints its story (or the events asked for), the violation last. The
// budget is counted in runs, so the same input gives the same tape on any machine; --seconds is
// only a cap, reported when it cuts the shrink short. Progress (the best run so far) goes to
// stderr. The output paths are checked before the first run, and never the input.

import type { Scenario } from '../../api/scenario.ts';
import { decisionCount } from '../../sim/choice.ts';
import type { ShrinkProgress } from '../../sim/shrink.ts';
import { bugsFor, eventViewOf, nonNegativeInt, one, outputPaths, scenarioNamed, singleRunStrategy, strategyNamed, type Parsed } from '../args.ts';
import { usage } from '../exit.ts';
import { checkOutputs } from '../outputs.ts';
import { formatSeconds, ProgressLine } from '../progress.ts';
import { storyOf } from '../../sim/story.ts';
import { emitJson, eventBlock, violationJson } from '../report.ts';
import { SHRINK_RUNS, shrinkRun } from '../../api/shrink-run.ts';
import { readTape, tapeOf } from '../../api/tape.ts';
import { writeTape } from '../tape-file.ts';

export function shrink(p: Parsed): number {
  if (p.positionals.length !== 1) usage('shrink takes one tape file, or one scenario with --seed N');
  const input = p.positionals[0]!;
  const fromTape = input.endsWith('.json');
  const tape = fromTape ? readTape(input) : null;
  const scenario: Scenario = scenarioNamed(tape?.scenario ?? input);
  const bugs = tape === null ? bugsFor(scenario, p.flags.get('bug') ?? []) : bugsFor(scenario, tape.bugs, `tape ${input}: switch`);
  if (tape !== null && (p.flags.has('seed') || p.flags.has('bug') || p.flags.has('strategy'))) usage('a tape names its own seed, switches and strategy: give the tape alone');
  const strategy = tape === null ? singleRunStrategy(one(p, 'strategy'), 'shrink <scenario> --seed N') : strategyNamed(tape.strategy);
  const seedText = one(p, 'seed');
  if (!fromTape && seedText === undefined) usage('shrink <scenario> needs --seed N');
  const seed = tape?.seed ?? nonNegativeInt(seedText!, '--seed');
  const budgetRuns = nonNegativeInt(one(p, 'runs') ?? String(SHRINK_RUNS), '--runs');
  const capMs = 1000 * nonNegativeInt(one(p, 'seconds') ?? '600', '--seconds');
  const view = eventViewOf(p);
  const explicitOut = one(p, 'out');
  const out = explicitOut ?? (fromTape ? input.replace(/\.json$/, '.shrunk.json') : `${scenario.name}-seed${seed}.shrunk.json`);
  const json = one(p, 'json');
  checkOutputs([...outputPaths(p, [['json', 'file']]), { flag: explicitOut === undefined ? 'the shrunk tape (default path; --out F.json to choose)' : '--out', path: out, kind: 'file' }], fromTape ? [input] : []);

  const progress = new ProgressLine({ quiet: json === '' || p.flags.has('quiet') });
  const shrunk = shrinkRun({
    scenario,
    bugs,
    strategy,
    seed,
    ...(tape === null ? {} : { values: tape.choices.map((c) => c[2]) }),
    ...(tape?.config === undefined ? {} : { config: tape.config }),
    budgetRuns,
    capMs,
    progress: (s) => {
      if (progress.due()) progress.update(progressText(s, budgetRuns));
    },
  });
  progress.clear();
  const { first, result, final } = shrunk;
  if (result === null || final === null || first.violation === null) usage(`${fromTape ? input : `${scenario.name} seed ${seed}`} does not fail: nothing to shrink`);

  const written = writeTape(out, tapeOf(final, { scenario, bugs, strategy, seed }), 'the shrunk tape');
  const summary = {
    scenario: scenario.name,
    bugs,
    seed,
    invariant: first.violation.invariant,
    from: { choices: first.choices.values.length, steps: first.steps, decisions: decisionCount(first.choices.values) },
    to: { choices: result.values.length, steps: final.steps, decisions: decisionCount(final.choices.values) },
    runs: result.runs,
    budgetRuns,
    seconds: Number((result.elapsedMs / 1000).toFixed(2)),
    timedOut: result.timedOut,
    violation: violationJson(final.violation),
    storyLines: storyOf(final)?.lines.length ?? null,
    tape: written,
  };
  if (json !== undefined) {
    emitJson(json, summary, 'the shrink result');
    return 1;
  }
  const lines = [
    `${scenario.name} seed ${seed}: ${summary.invariant} kept; ${summary.from.steps} -> ${summary.to.steps} steps, ${summary.from.choices} -> ${summary.to.choices} choices, ${summary.from.decisions} -> ${summary.to.decisions} decisions (${result.runs} of ${budgetRuns} runs, ${summary.seconds}s${result.timedOut ? `; CUT SHORT by the ${capMs / 1000}s cap: another machine may shrink further` : ''})`,
    ...eventBlock(final, view),
    `  => ${final.violation?.invariant}: ${final.violation?.message}`,
    `tape: ${written}  (npx stairwell replay ${written})`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 1;
}

function progressText(s: ShrinkProgress, budgetRuns: number): string {
  return `shrink: best ${s.steps} steps, ${s.choices} choices; ${s.runs} of ${budgetRuns} runs, ${formatSeconds(s.elapsedMs / 1000)}`;
}
