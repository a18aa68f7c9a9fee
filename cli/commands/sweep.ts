// stairwell sweep [<scenario>|all] --seeds A..B [--bug ID]... [--strategy S] [--json [F.json]]
//                 [--check-determinism]
// Runs every seed of the range (one process), prints each failure as it is found, and ends with
// a summary naming the first failing seed, its invariant and a replay command. Exit 1 if any
// seed failed.

import { SCENARIOS } from '../../scenarios/index.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import { describeRecord } from '../../sim/trace.ts';
import { bugSwitches, one, parseArgs, scenarioNamed, seedRange, strategyNamed } from '../args.ts';
import { execute, replayCommand } from '../execute.ts';
import { emitJson } from '../report.ts';
import { usage } from '../usage-error.ts';

export interface SweepFailure {
  readonly scenario: string;
  readonly seed: number;
  readonly invariant: string;
  readonly step: number;
  readonly message: string;
  readonly replay: string;
}

const PRINTED_FAILURES_MAX = 20;

export function sweep(argv: readonly string[]): number {
  const p = parseArgs(argv, { seeds: 'value', bug: 'value', strategy: 'value', json: 'json', 'check-determinism': 'bool' });
  if (p.positionals.length > 1) usage(`sweep takes one scenario or 'all', got ${p.positionals.join(' ')}`);
  const target = p.positionals[0] ?? 'all';
  const scenarios: readonly Scenario[] = target === 'all' ? SCENARIOS : [scenarioNamed(target)];
  const seedsText = one(p, 'seeds');
  if (seedsText === undefined) usage('sweep needs --seeds A..B');
  const range = seedRange(seedsText);
  const bugs = bugSwitches(p.flags.get('bug') ?? []);
  const strategy = strategyNamed(one(p, 'strategy'));
  const json = one(p, 'json');
  const checkDeterminism = p.flags.has('check-determinism');
  const quiet = json === '';

  const failures: SweepFailure[] = [];
  let seeds = 0;
  let steps = 0;
  const started = process.hrtime.bigint();
  const progress = process.stderr.isTTY && !quiet;
  for (const scenario of scenarios) {
    for (let seed = range.first; seed <= range.last; seed++) {
      const { outcome } = execute({ scenario, bugs, seed });
      seeds++;
      steps += outcome.steps;
      let failure: SweepFailure | null = null;
      const replay = replayCommand(scenario.name, seed, bugs);
      if (outcome.violation !== null) {
        const v = outcome.violation;
        failure = { scenario: scenario.name, seed, invariant: v.invariant, step: v.step, message: v.message, replay };
      } else if (checkDeterminism) {
        const again = execute({ scenario, bugs, seed }).outcome;
        if (again.fingerprint !== outcome.fingerprint) {
          failure = { scenario: scenario.name, seed, invariant: 'DETERMINISM', step: 0, message: firstDivergence(scenario, bugs, seed), replay };
        }
      }
      if (failure !== null) {
        failures.push(failure);
        if (!quiet && failures.length <= PRINTED_FAILURES_MAX) {
          if (progress) process.stderr.write('\r\x1b[K');
          process.stdout.write(`${scenario.name} seed ${seed}: ${failure.invariant} at step ${failure.step}: ${failure.message}\n`);
        }
      }
      if (progress && seeds % 50 === 0) {
        const secs = Number(process.hrtime.bigint() - started) / 1e9;
        process.stderr.write(`\r${scenario.name}: ${seeds} seeds, ${failures.length} failed, ${(seeds / secs).toFixed(0)} seeds/s`);
      }
    }
  }
  if (progress) process.stderr.write('\r\x1b[K');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (json !== undefined) {
    emitJson(json, {
      scenarios: scenarios.map((s) => s.name),
      bugs,
      strategy,
      range: `${range.first}..${range.last}`,
      seeds,
      failures: failures.map(({ scenario, seed, invariant, step, message, replay }) => ({ scenario, seed, invariant, step, message, replay })),
      ok: failures.length === 0,
      steps,
      seconds: Number(seconds.toFixed(3)),
      seedsPerSecond: Number((seeds / seconds).toFixed(1)),
    });
  }
  if (!quiet) {
    const head = `${scenarios.map((s) => s.name).join(', ')}: ${seeds} seeds, ${failures.length} failed (${seconds.toFixed(1)}s, ${(seeds / seconds).toFixed(0)} seeds/s)`;
    const first = failures[0];
    const lines = [head];
    if (failures.length > PRINTED_FAILURES_MAX) lines.push(`  (${failures.length - PRINTED_FAILURES_MAX} more failures not printed; --json lists them all)`);
    if (first !== undefined) lines.push(`first failure: ${first.scenario} seed ${first.seed}, ${first.invariant} at step ${first.step}`, `replay: ${first.replay}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return failures.length === 0 ? 0 : 1;
}

/** Run the seed twice with full traces and name the first event where they differ. */
function firstDivergence(scenario: Scenario, bugs: readonly string[], seed: number): string {
  const a = execute({ scenario, bugs, seed, trace: true }).outcome.records ?? [];
  const b = execute({ scenario, bugs, seed, trace: true }).outcome.records ?? [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] === undefined ? '(end of run)' : describeRecord(a[i]!);
    const y = b[i] === undefined ? '(end of run)' : describeRecord(b[i]!);
    if (x !== y || JSON.stringify(a[i]) !== JSON.stringify(b[i])) return `two runs of the same seed diverge at event ${i}: '${x}' vs '${y}'`;
  }
  return 'two runs of the same seed have different fingerprints but identical traces';
}
