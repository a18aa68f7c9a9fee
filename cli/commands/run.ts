// stairwell run <scenario|file.ts> --seed N [--bug ID]... [--strategy S] [--trace F.jsonl] [--tape F.json] [--config] [--json]
// Runs one seed. On a violation it prints the run's story (the events that led to it: --all for
// every event, --last N, --node, --entity to filter) and a replay command.

import { bugsFor, eventViewOf, nonNegativeInt, one, outputPaths, scenarioNamed, singleRunStrategy, type Parsed } from '../args.ts';
import { execute, replayCommand } from '../../api/execute.ts';
import { storyOf } from '../../sim/story.ts';
import { emitJson, eventBlock, verdictLine, violationJson, writeTrace } from '../report.ts';
import { tapeOf } from '../../api/tape.ts';
import { writeTape } from '../tape-file.ts';
import { usage } from '../exit.ts';
import { describeRunConfig } from '../../sim/run-config.ts';
import { checkOutputs } from '../outputs.ts';

export function run(p: Parsed): number {
  if (p.positionals.length > 1) usage(`run takes one scenario, got ${p.positionals.join(' ')}`);
  const scenario = scenarioNamed(p.positionals[0]);
  const seedText = one(p, 'seed');
  if (seedText === undefined) usage('run needs --seed N');
  const seed = nonNegativeInt(seedText, '--seed');
  const bugs = bugsFor(scenario, p.flags.get('bug') ?? []);
  const strategy = singleRunStrategy(one(p, 'strategy'), 'run');
  const tracePath = one(p, 'trace');
  const tapePath = one(p, 'tape');
  const json = one(p, 'json');
  const view = eventViewOf(p);
  checkOutputs(outputPaths(p, [['trace', 'file'], ['tape', 'file'], ['json', 'file']]), []);

  // A failing run is run again traced (it is deterministic): sweeps of one seed stay fast.
  const first = execute({ scenario, bugs, seed, strategy, trace: tracePath !== undefined });
  const outcome = first.outcome.ok || first.outcome.records !== null ? first.outcome : execute({ scenario, bugs, seed, strategy, trace: true }).outcome;
  const replay = replayCommand(scenario, seed, bugs, strategy);
  if (tracePath !== undefined) writeTrace(tracePath, outcome.records ?? []);
  if (tapePath !== undefined) writeTape(tapePath, tapeOf(outcome, { scenario, bugs, strategy, seed }));

  if (json !== undefined) {
    emitJson(json, {
      scenario: scenario.name,
      seed,
      bugs,
      strategy,
      ok: outcome.ok,
      fingerprint: outcome.fingerprint,
      steps: outcome.steps,
      timeMs: outcome.timeMs,
      choices: outcome.choices.values.length,
      config: scenario.config,
      violation: violationJson(outcome.violation),
      storyLines: storyOf(outcome)?.lines.length ?? null,
      replay,
    });
    return outcome.ok ? 0 : 1;
  }
  if (p.flags.has('config')) process.stdout.write(`run configuration of ${scenario.name} (* changed from stairwell's default):\n${describeRunConfig(scenario.config).join('\n')}\n`);
  const label = `${scenario.name} seed ${seed}${bugs.length > 0 ? ` [${bugs.join(', ')}]` : ''}`;
  const out = [verdictLine(label, outcome)];
  if (outcome.violation !== null) {
    out.push(...eventBlock(outcome, view), `  => ${outcome.violation.invariant}: ${outcome.violation.message}`, `  replay: ${replay}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return outcome.ok ? 0 : 1;
}

