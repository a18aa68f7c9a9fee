// stairwell run <scenario> --seed N [--bug ID]... [--strategy S] [--trace F.jsonl] [--tape F.json] [--json]
// Runs one seed. On a violation it prints the steps that led to it and a replay command.

import { bugsFor, nonNegativeInt, one, outputPaths, scenarioNamed, singleRunStrategy, type Parsed } from '../args.ts';
import { execute, replayCommand } from '../execute.ts';
import { emitJson, lastSteps, verdictLine, violationJson, writeTrace } from '../report.ts';
import { tapeOf, writeTape } from '../tape-file.ts';
import { usage } from '../exit.ts';
import { checkOutputs } from '../outputs.ts';

const CONTEXT_STEPS = 25;

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
  checkOutputs(outputPaths(p, [['trace', 'file'], ['tape', 'file'], ['json', 'file']]), []);

  const first = execute({ scenario, bugs, seed, strategy, trace: tracePath !== undefined });
  const { outcome } = first;
  const replay = replayCommand(scenario.name, seed, bugs, strategy);
  if (tracePath !== undefined) writeTrace(tracePath, outcome.records ?? []);
  if (tapePath !== undefined) writeTape(tapePath, tapeOf(outcome, { scenario: scenario.name, bugs, strategy, seed }));

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
      violation: violationJson(outcome.violation),
      replay,
    });
    return outcome.ok ? 0 : 1;
  }
  const label = `${scenario.name} seed ${seed}${bugs.length > 0 ? ` [${bugs.join(', ')}]` : ''}`;
  const out = [verdictLine(label, outcome)];
  if (outcome.violation !== null) {
    // The run is deterministic, so the trace of the steps leading here comes from running it again.
    const traced = outcome.records === null ? execute({ scenario, bugs, seed, strategy, trace: true }).outcome : outcome;
    out.push(`  ${outcome.violation.message}`, `  last ${CONTEXT_STEPS} events:`, ...lastSteps(traced.records ?? [], CONTEXT_STEPS, traced.choices).map((l) => `    ${l}`));
    out.push(`  replay: ${replay}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return outcome.ok ? 0 : 1;
}
