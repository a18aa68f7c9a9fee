// stairwell replay [<scenario>] <F.json> [--trace F.jsonl] [--all | --last N] [--node ID] [--entity ID] [--json]
// Replays a tape choice by choice. If the code changed so that the tape's labels no longer line
// up, it says where the replay diverged; and if the recorded violation did not reproduce, it
// tries again with the choices realigned on their labels (best effort, sim/choice.ts) and says
// whether that reproduced it, instead of silently running something else. Naming the scenario
// checks that the tape is one of it.

import { bugsFor, eventViewOf, one, outputPaths, scenarioNamed, strategyNamed, type Parsed } from '../args.ts';
import { execute } from '../../api/execute.ts';
import { storyOf } from '../../sim/story.ts';
import { emitJson, eventBlock, verdictLine, violationJson, writeTrace } from '../report.ts';
import { readTape } from '../../api/tape.ts';
import { usage } from '../exit.ts';
import { checkOutputs } from '../outputs.ts';

export function replay(p: Parsed): number {
  if (p.positionals.length < 1 || p.positionals.length > 2) usage('replay takes one tape file, optionally after the scenario it must be of');
  const path = p.positionals.at(-1)!;
  const tape = readTape(path);
  const scenario = scenarioNamed(tape.scenario);
  if (p.positionals.length === 2 && scenarioNamed(p.positionals[0]).name !== scenario.name) usage(`tape ${path} is of scenario ${scenario.name}, not ${p.positionals[0]}`);
  const bugs = bugsFor(scenario, tape.bugs, `tape ${path}: switch`);
  const strategy = strategyNamed(tape.strategy);
  const tracePath = one(p, 'trace');
  const json = one(p, 'json');
  const view = eventViewOf(p);
  checkOutputs(outputPaths(p, [['trace', 'file'], ['json', 'file']]), [path]);
  const values = tape.choices.map((c) => c[2]);
  const labels = tape.choices.map((c) => c[0]);
  const config = tape.config ?? scenario.config;
  const exact = execute({ scenario, bugs, seed: tape.seed, strategy, config, tape: { values, labels }, trace: true });
  const { divergence } = exact;
  const expected = tape.violation?.invariant ?? null;
  let outcome = exact.outcome;
  let realigned = false;
  if (divergence !== null && (outcome.violation?.invariant ?? null) !== expected) {
    const aligned = execute({ scenario, bugs, seed: tape.seed, strategy, config, tape: { values, labels, aligned: true }, trace: true }).outcome;
    if ((aligned.violation?.invariant ?? null) === expected) {
      outcome = aligned;
      realigned = true;
    }
  }
  if (tracePath !== undefined) writeTrace(tracePath, outcome.records ?? []);
  const got = outcome.violation?.invariant ?? null;
  const sameFingerprint = tape.fingerprint === '' ? null : tape.fingerprint === outcome.fingerprint;
  if (json !== undefined) {
    emitJson(json, {
      scenario: scenario.name,
      bugs,
      seed: tape.seed,
      ok: outcome.ok,
      fingerprint: outcome.fingerprint,
      sameFingerprint,
      steps: outcome.steps,
      violation: violationJson(outcome.violation),
      reproduced: expected === got,
      divergence,
      realigned,
      storyLines: storyOf(outcome)?.lines.length ?? null,
    });
    return outcome.ok ? 0 : 1;
  }
  const out = [verdictLine(`replay of ${path}`, outcome)];
  if (divergence !== null) {
    out.push(`  diverged at choice ${divergence.index}: the tape has '${divergence.expected}', the code asked for '${divergence.actual}' (the code changed since the tape was made)`);
  }
  out.push(
    expected === got
      ? `  reproduced: ${expected ?? 'no violation'}${realigned ? ' (best effort: after realigning the choices on their labels)' : sameFingerprint === false ? ' (by another path: the fingerprint differs)' : ''}`
      : `  NOT reproduced: the tape recorded ${expected ?? 'no violation'}, this run gave ${got ?? 'no violation'}${divergence !== null ? ' (realigning the choices on their labels did not reproduce it either)' : ''}`,
  );
  if (outcome.violation !== null) out.push(...eventBlock(outcome, view), `  => ${outcome.violation.invariant}: ${outcome.violation.message}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return outcome.ok ? 0 : 1;
}
