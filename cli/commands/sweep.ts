// stairwell sweep [<scenario>|all] --seeds A..B [--bug ID]... [--strategy S] [--json [F.json]]
//                 [--check-determinism] [--workers N] [--shard K/N] [--tapes DIR]
// Runs every seed of the range, on N worker threads (default: every core) or in this thread
// (--workers 1), prints each failure as it is found, and ends with a summary naming the first
// failing seed, its invariant and a replay command. Exit 1 if any seed failed. With --shard K/N
// it takes every N-th seed of the range from its K-th, so N machines split one range (and
// `stairwell merge` joins their --json results). Nothing found is lost to an interrupted sweep:
// failures print as they come, --tapes DIR writes each failure's tape as it comes, and a
// --json file is rewritten with the results so far (`complete: false`) as failures come and
// on Ctrl-C. Under --strategy coverage the runs are one search, made in order in this thread;
// seed N is the search's N-th run, and its failures are known by their tapes (DIR defaults to
// stairwell-failures).

import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { SCENARIOS } from '../../scenarios/index.ts';
import type { Scenario } from '../../scenarios/scenario.ts';
import { bugSwitches, nonNegativeInt, one, parseArgs, scenarioNamed, seedRange, shardOf, strategyNamed, type Shard } from '../args.ts';
import { emitJson } from '../report.ts';
import { sweepInWorkers } from '../sweep-pool.ts';
import { coverageSeedResult, saveFailureTape, sweepSeed, type SeedResult, type SweepFailure } from '../sweep-seed.ts';
import { searchRuns } from '../search-runs.ts';
import type { RunOutcome } from '../../sim/runner.ts';
import { usage } from '../usage-error.ts';

const PRINTED_FAILURES_MAX = 20;
const DEFAULT_TAPES = 'stairwell-failures';
/** A --json file is rewritten with the failures so far at most this often. */
const SAVE_INTERVAL_MS = 1000;
const YIELD_EVERY_MS = 50;

/** The bundled CLI module, which a worker loads again; null when running from the .ts sources. */
let bundledModule: URL | null = null;
export function setWorkerModule(url: URL): void {
  bundledModule = url.pathname.endsWith('.ts') ? null : url;
}
export function workerModule(): URL | null {
  return bundledModule;
}

export function sweep(argv: readonly string[]): number | Promise<number> {
  const p = parseArgs(argv, { seeds: 'value', bug: 'value', strategy: 'value', json: 'json', 'check-determinism': 'bool', workers: 'value', shard: 'value', tapes: 'value' });
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
  const workersText = one(p, 'workers');
  const workers = workersText === undefined ? availableParallelism() : nonNegativeInt(workersText, '--workers');
  if (workers < 1) usage('--workers takes a number of threads, 1 or more');
  const shardText = one(p, 'shard');
  const shard: Shard = shardText === undefined ? { index: 1, count: 1 } : shardOf(shardText);
  const quiet = json === '';
  if (strategy === 'coverage' && workersText !== undefined && workers > 1 && !quiet) {
    process.stderr.write('note: a coverage sweep is one search whose runs build on each other, so it runs in this thread; --workers does not apply\n');
  }
  const tapes = one(p, 'tapes') ?? (strategy === 'coverage' ? DEFAULT_TAPES : undefined);
  if (tapes !== undefined) mkdirSync(tapes, { recursive: true });

  const failures: SweepFailure[] = [];
  let seeds = 0;
  let steps = 0;
  const started = process.hrtime.bigint();
  const progress = process.stderr.isTTY && !quiet;
  let savedAtMs = 0;
  const onResult = (scenario: string, result: SeedResult, outcome: RunOutcome | null = null): void => {
    seeds++;
    steps += result.steps;
    let failure = result.failure;
    if (failure !== null) {
      if (tapes !== undefined) failure = { ...failure, replay: `npx stairwell replay ${saveFailureTape(tapes, scenarioNamed(scenario), bugs, strategy, failure.seed, outcome)}` };
      failures.push(failure);
      if (json !== undefined && json !== '' && performance.now() - savedAtMs > SAVE_INTERVAL_MS) {
        emitJson(json, report(false));
        savedAtMs = performance.now();
      }
      if (!quiet && failures.length <= PRINTED_FAILURES_MAX) {
        if (progress) process.stderr.write('\r\x1b[K');
        process.stdout.write(`${scenario} seed ${failure.seed}: ${failure.invariant} at step ${failure.step}: ${failure.message}\n`);
      }
    }
    if (progress && seeds % 50 === 0) {
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      process.stderr.write(`\r${scenario}: ${seeds} seeds, ${failures.length} failed, ${(seeds / secs).toFixed(0)} seeds/s`);
    }
  };
  const report = (complete: boolean): SweepJson => {
    // Workers finish seeds out of order: report them in sweep order.
    const order = new Map(scenarios.map((s, i) => [s.name, i]));
    failures.sort((a, b) => order.get(a.scenario)! - order.get(b.scenario)! || a.seed - b.seed);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      scenarios: scenarios.map((s) => s.name),
      bugs,
      strategy,
      range: `${range.first}..${range.last}`,
      shard: `${shard.index}/${shard.count}`,
      seeds,
      failures,
      ok: failures.length === 0,
      steps,
      seconds: Number(seconds.toFixed(3)),
      seedsPerSecond: Number((seeds / seconds).toFixed(1)),
      complete,
    };
  };
  const interrupted = (): void => {
    if (progress) process.stderr.write('\r\x1b[K');
    if (json !== undefined && json !== '') emitJson(json, report(false));
    process.stderr.write(`sweep interrupted after ${seeds} seeds, ${failures.length} failed${json !== undefined && json !== '' ? `; results so far in ${json}` : ''}\n`);
    process.exit(130);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const finish = (): number => {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    if (progress) process.stderr.write('\r\x1b[K');
    const result = report(true);
    if (json !== undefined) emitJson(json, result);
    if (!quiet) process.stdout.write(`${summaryLines(result).join('\n')}\n`);
    return result.ok ? 0 : 1;
  };

  const seedList = Array.from({ length: range.last - range.first + 1 }, (_, i) => range.first + i).filter((seed) => (seed - range.first) % shard.count === shard.index - 1);
  if (strategy === 'coverage' || workers === 1 || bundledModule === null || seedList.length * scenarios.length < 2 * workers) {
    function* inThisThread(): Generator<void> {
      for (const scenario of scenarios) {
        if (strategy !== 'coverage') {
          for (const seed of seedList) yield onResult(scenario.name, sweepSeed(scenario, bugs, seed, checkDeterminism, strategy));
          continue;
        }
        const searchStart = `${range.first}:${shard.index}/${shard.count}`;
        for (const r of searchRuns(scenario, bugs, strategy, seedList, searchStart)) yield onResult(scenario.name, coverageSeedResult(scenario, bugs, r, checkDeterminism), r.outcome);
      }
    }
    return yieldingNow(inThisThread()).then(finish);
  }
  const jobs = scenarios.map((s) => ({ scenario: s.name, seeds: seedList }));
  return sweepInWorkers(bundledModule, workers, jobs, bugs, checkDeterminism, strategy, (scenario, _seed, result) => onResult(scenario, result)).then(finish);
}

/** Run `work` to its end, letting the event loop in every 50 ms so Ctrl-C is heard mid-sweep. */
async function yieldingNow(work: Iterator<void>): Promise<void> {
  let since = performance.now();
  while (work.next().done !== true) {
    if (performance.now() - since < YIELD_EVERY_MS) continue;
    await new Promise((resolve) => setImmediate(resolve));
    since = performance.now();
  }
}

/** What `sweep --json` prints, and `merge` reads and writes. */
export interface SweepJson {
  readonly scenarios: readonly string[];
  readonly bugs: readonly string[];
  readonly strategy: string;
  readonly range: string;
  readonly shard: string;
  readonly seeds: number;
  readonly failures: readonly SweepFailure[];
  readonly ok: boolean;
  readonly steps: number;
  readonly seconds: number;
  readonly seedsPerSecond: number;
  /** false while the sweep runs or if it was interrupted. */
  readonly complete: boolean;
}

export function summaryLines(r: SweepJson): string[] {
  const lines = [`${r.scenarios.join(', ')}: ${r.seeds} seeds, ${r.failures.length} failed (${r.seconds.toFixed(1)}s, ${r.seedsPerSecond.toFixed(0)} seeds/s)`];
  if (r.failures.length > PRINTED_FAILURES_MAX) lines.push(`  (${r.failures.length - PRINTED_FAILURES_MAX} more failures not printed; --json lists them all)`);
  const first = r.failures[0];
  if (first !== undefined) lines.push(`first failure: ${first.scenario} seed ${first.seed}, ${first.invariant} at step ${first.step}`, `replay: ${first.replay}`);
  return lines;
}
