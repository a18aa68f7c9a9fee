// stairwell replay <F.json> [--trace F.jsonl] [--json]
// Replays a tape choice by choice. If the code changed so that the tape's labels no longer line
// up, it says where the replay diverged, and whether the recorded violation still reproduced.

import { bugSwitches, one, parseArgs, scenarioNamed, strategyNamed } from '../args.ts';
import { execute } from '../execute.ts';
import { emitJson, lastSteps, verdictLine, violationJson, writeTrace } from '../report.ts';
import { readTape } from '../tape-file.ts';
import { usage } from '../usage-error.ts';

export function replay(argv: readonly string[]): number {
  const p = parseArgs(argv, { trace: 'value', json: 'json' });
  if (p.positionals.length !== 1) usage('replay takes one tape file');
  const tape = readTape(p.positionals[0]!);
  const scenario = scenarioNamed(tape.scenario);
  const bugs = bugSwitches(tape.bugs);
  const strategy = strategyNamed(tape.strategy);
  const tracePath = one(p, 'trace');
  const json = one(p, 'json');
  const { outcome, divergence } = execute({
    scenario,
    bugs,
    seed: tape.seed,
    strategy,
    tape: { values: tape.choices.map((c) => c[2]), labels: tape.choices.map((c) => c[0]) },
    trace: true,
  });
  if (tracePath !== undefined) writeTrace(tracePath, outcome.records ?? []);
  const expected = tape.violation?.invariant ?? null;
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
    });
    return outcome.ok ? 0 : 1;
  }
  const out = [verdictLine(`replay of ${p.positionals[0]}`, outcome)];
  if (divergence !== null) {
    out.push(`  diverged at choice ${divergence.index}: the tape has '${divergence.expected}', the code asked for '${divergence.actual}' (the code changed since the tape was made)`);
  }
  out.push(
    expected === got
      ? `  reproduced: ${expected ?? 'no violation'}${sameFingerprint === false ? ' (by another path: the fingerprint differs)' : ''}`
      : `  NOT reproduced: the tape recorded ${expected ?? 'no violation'}, this run gave ${got ?? 'no violation'}`,
  );
  if (outcome.violation !== null) out.push(`  ${outcome.violation.message}`, ...lastSteps(outcome.records ?? [], 15).map((l) => `    ${l}`));
  process.stdout.write(`${out.join('\n')}\n`);
  return outcome.ok ? 0 : 1;
}
