// One sweep from start to verdict: it hands out the plan's batches (to worker threads, or runs
// them here), takes each seed's result, prints failures as they come, keeps progress on stderr,
// stops at its budgets (--seconds, --max-failures), and writes what it found. Nothing found is
// lost: --tapes writes each failing tape as it comes, a --json file is rewritten with the
// results so far (at most once a second) as failures come, and Ctrl-C or SIGTERM writes them once
// more before the sweep exits 130 or 143.

import { performance } from 'node:perf_hooks';
import type { Scenario } from '../api/scenario.ts';
import type { RunOutcome } from '../sim/runner.ts';
import type { SeedSequence, Shard } from '../sim/seed-sequence.ts';
import { seedsOf } from '../sim/seed-sequence.ts';
import type { Strategy } from '../sim/strategy.ts';
import { EXIT, HarnessError } from './exit.ts';
import { sweepJunit } from './junit.ts';
import { saveFailureTape } from './tape-file.ts';
import { outputs } from './outputs.ts';
import { formatSeconds, ProgressLine } from './progress.ts';
import { emitJson } from './report.ts';
import { searchRuns, type SearchRun } from '../api/search-runs.ts';
import { SweepPlan, type PlannedBatch } from '../api/sweep-plan.ts';
import { sweepInWorkers, type Batch, type BatchDone } from './sweep-pool.ts';
import { FAILURES_KEPT_MAX, PRINTED_FAILURES_MAX, probeLines, summaryLines, type ProbeReport, type StopReason, type SweepJson } from './sweep-result.ts';
import { coverageSeedResult, sweepSeed, type SeedResult, type SweepFailure } from '../api/sweep-seed.ts';

export interface SweepConfig {
  /** What the user named: a scenario, or 'all'. */
  readonly target: string;
  readonly scenarios: readonly Scenario[];
  /** The whole sequence --seeds names, and this shard of it. */
  readonly wholeSeeds: SeedSequence;
  readonly seeds: SeedSequence;
  readonly shard: Shard;
  readonly bugs: readonly string[];
  readonly strategy: Strategy;
  readonly checkDeterminism: boolean;
  readonly workers: number;
  /** The bundled CLI that worker threads load; null when running from the sources. */
  readonly workerModule: URL | null;
  readonly json: string | undefined;
  readonly junit: string | undefined;
  readonly tapes: string | undefined;
  readonly secondsMax: number | null;
  readonly maxFailures: number | null;
  readonly quiet: boolean;
  /** Count the runs that reach each coverage probe, and report them (`--probes`). */
  readonly probes: boolean;
}

/** A --json file is rewritten with the failures so far at most this often. */
const SAVE_INTERVAL_MS = 1000;
/** A sweep in this thread lets the event loop in this often, so Ctrl-C is heard. */
const YIELD_EVERY_MS = 50;

export class SweepSession {
  readonly #c: SweepConfig;
  readonly #plan: SweepPlan;
  readonly #progress: ProgressLine;
  readonly #failures: SweepFailure[] = [];
  readonly #seedsByScenario = new Map<string, number>();
  /** Per scenario, the runs that reached each probe. */
  readonly #probeRuns = new Map<string, Map<string, number>>();
  readonly #startedMs = performance.now();
  readonly #deadlineMs: number;
  #failureCount = 0;
  #seeds = 0;
  #steps = 0;
  #savedAtMs = 0;
  #stopped: StopReason | null = null;
  /** Under coverage, one search per scenario, pulled batch by batch. */
  readonly #searches = new Map<string, Iterator<SearchRun>>();

  constructor(config: SweepConfig) {
    this.#c = config;
    this.#plan = new SweepPlan(config.scenarios.map((s) => s.name), config.seeds);
    this.#progress = new ProgressLine({ quiet: config.quiet || config.json === '' });
    this.#deadlineMs = config.secondsMax === null ? Infinity : this.#startedMs + config.secondsMax * 1000;
  }

  async run(): Promise<number> {
    const onSignal = (signal: NodeJS.Signals): void => this.#interrupted(signal);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      if (this.#inThisThread()) await this.#runHere();
      else await sweepInWorkers(this.#c.workerModule!, this.#c.workers, () => this.#nextBatch(), (done) => this.#batchDone(done));
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return this.#finish();
  }

  #inThisThread(): boolean {
    const c = this.#c;
    return c.strategy === 'coverage' || c.workers === 1 || c.workerModule === null || this.#plan.total < 2 * c.workers;
  }

  /** Run the plan here, letting the event loop in every 50 ms so Ctrl-C is heard mid-sweep. */
  async #runHere(): Promise<void> {
    let since = performance.now();
    for (let batch = this.#nextPlanned(); batch !== null; batch = this.#nextPlanned()) {
      let ran = 0;
      for (const seed of batch.seeds) {
        if (this.#stopped !== null) break;
        this.#runOneHere(batch, ran, seed);
        ran++;
        if (performance.now() - since >= YIELD_EVERY_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          since = performance.now();
        }
      }
      this.#plan.done(batch, ran);
    }
  }

  #runOneHere(batch: PlannedBatch, i: number, seed: number): void {
    const scenario = this.#c.scenarios.find((s) => s.name === batch.scenario)!;
    try {
      if (this.#c.strategy !== 'coverage') {
        this.#onSeed(scenario, batch.from + i, sweepSeed(scenario, this.#c.bugs, seed, this.#c.checkDeterminism, this.#c.strategy));
        return;
      }
      const r = this.#search(scenario).next();
      if (r.done === true || r.value.seed !== seed) throw new Error(`the coverage search of ${scenario.name} is out of step with the plan at seed ${seed}`);
      this.#onSeed(scenario, batch.from + i, coverageSeedResult(scenario, this.#c.bugs, r.value, this.#c.checkDeterminism), r.value.outcome);
    } catch (error) {
      throw error instanceof HarnessError ? error : new HarnessError(`while running ${scenario.name} seed ${seed}`, error);
    }
  }

  #search(scenario: Scenario): Iterator<SearchRun> {
    let search = this.#searches.get(scenario.name);
    if (search === undefined) {
      // A search is named by where the sequence starts, so a longer sweep extends the same search.
      const start = `${this.#c.wholeSeeds.at(0)}:${this.#c.shard.index}/${this.#c.shard.count}`;
      search = searchRuns(scenario, this.#c.bugs, 'coverage', seedsOf(this.#c.seeds), start, this.#c.checkDeterminism);
      this.#searches.set(scenario.name, search);
    }
    return search;
  }

  #nextPlanned(): PlannedBatch | null {
    return this.#stopped === null ? this.#plan.next() : null;
  }

  #nextBatch(): Batch | null {
    const planned = this.#nextPlanned();
    if (planned === null) return null;
    return { ...planned, bugs: this.#c.bugs, checkDeterminism: this.#c.checkDeterminism, strategy: this.#c.strategy };
  }

  #batchDone(done: BatchDone): void {
    const scenario = this.#c.scenarios.find((s) => s.name === done.scenario)!;
    done.results.forEach((r, i) => this.#onSeed(scenario, done.from + i, r));
    this.#plan.done({ scenario: done.scenario, from: done.from, seeds: done.results.map((r) => r.seed) });
  }

  /** One seed's result: count it, keep and print its failure, update progress, check the budgets. */
  #onSeed(scenario: Scenario, index: number, result: SeedResult, outcome: RunOutcome | null = null): void {
    this.#seeds++;
    this.#steps += result.steps;
    this.#seedsByScenario.set(scenario.name, (this.#seedsByScenario.get(scenario.name) ?? 0) + 1);
    if (this.#c.probes) this.#countProbes(scenario.name, result.probes);
    if (result.failure !== null) this.#onFailure(scenario, index, result.failure, outcome);
    if (this.#progress.due()) this.#progress.update(this.#progressText());
    if (this.#stopped === null && this.#c.maxFailures !== null && this.#failureCount >= this.#c.maxFailures) this.#stopped = 'max-failures';
    if (this.#stopped === null && performance.now() >= this.#deadlineMs) this.#stopped = 'seconds';
  }

  #countProbes(scenario: string, reached: readonly string[]): void {
    let runs = this.#probeRuns.get(scenario);
    if (runs === undefined) this.#probeRuns.set(scenario, (runs = new Map()));
    for (const name of reached) runs.set(name, (runs.get(name) ?? 0) + 1);
  }

  #probeReports(): ProbeReport[] {
    return this.#c.scenarios.map((s) => {
      const runs = this.#probeRuns.get(s.name) ?? new Map<string, number>();
      const hit = Object.fromEntries([...runs].sort(([a], [b]) => (a < b ? -1 : 1)));
      return { scenario: s.name, seeds: this.#seedsByScenario.get(s.name) ?? 0, hit, missing: s.requiredProbes.filter((p) => !runs.has(p)) };
    });
  }

  #onFailure(scenario: Scenario, index: number, found: SweepFailure, outcome: RunOutcome | null): void {
    this.#failureCount++;
    let failure = found;
    if (failure.invariant === 'DETERMINISM') failure = { ...failure, replay: this.#determinismReplay(index) };
    else if (this.#c.tapes !== undefined) failure = { ...failure, replay: `npx stairwell replay ${saveFailureTape(this.#c.tapes, scenario, this.#c.bugs, this.#c.strategy, failure.seed, outcome)}` };
    if (this.#failures.length < FAILURES_KEPT_MAX) this.#failures.push(failure);
    const json = this.#c.json;
    if (json !== undefined && json !== '' && performance.now() - this.#savedAtMs > SAVE_INTERVAL_MS) {
      outputs.writeInterim(json, `${JSON.stringify(this.#report(false), null, 2)}\n`);
      this.#savedAtMs = performance.now();
    }
    if (json !== '' && this.#failureCount <= PRINTED_FAILURES_MAX) {
      this.#progress.clear();
      process.stdout.write(`${scenario.name} seed ${failure.seed}: ${failure.invariant} at step ${failure.step}: ${failure.message}\n`);
    }
  }

  /**
   * Runs before a seed in the same thread can leak into it, so the command that reproduces a
   * determinism finding runs the sweep's seeds up to this one, in one thread, checking each.
   */
  #determinismReplay(index: number): string {
    const c = this.#c;
    const args = ['npx stairwell sweep', c.target, '--seeds', c.seeds.prefixText(index)];
    if (c.shard.count > 1) args.push('--shard', `${c.shard.index}/${c.shard.count}`);
    args.push('--check-determinism', '--workers', '1', ...c.bugs.flatMap((b) => ['--bug', b]));
    if (c.strategy !== 'random') args.push('--strategy', c.strategy);
    return args.join(' ');
  }

  #progressText(): string {
    const c = this.#c;
    const total = this.#plan.total;
    const secs = (performance.now() - this.#startedMs) / 1000;
    const rate = this.#seeds / Math.max(secs, 1e-3);
    const etaSecs = Math.min((total - this.#seeds) / Math.max(rate, 1e-9), (this.#deadlineMs - performance.now()) / 1000);
    const label = c.scenarios.length === 1 ? c.scenarios[0]!.name : `${c.target} (${c.scenarios.length} scenarios)`;
    const pct = (100 * this.#seeds) / total;
    return `${label}: ${this.#seeds.toLocaleString('en')} of ${total.toLocaleString('en')} seeds (${pct < 10 ? pct.toFixed(2) : pct.toFixed(1)}%), ${this.#failureCount} failed, ${Math.round(rate).toLocaleString('en')} seeds/s, ETA ${formatSeconds(etaSecs)}`;
  }

  #report(complete: boolean): SweepJson {
    const c = this.#c;
    // Workers finish seeds out of order: report them in sweep order.
    const order = new Map(c.scenarios.map((s, i) => [s.name, i]));
    this.#failures.sort((a, b) => order.get(a.scenario)! - order.get(b.scenario)! || a.seed - b.seed);
    const seconds = (performance.now() - this.#startedMs) / 1000;
    return {
      scenarios: c.scenarios.map((s) => s.name),
      bugs: c.bugs,
      strategy: c.strategy,
      range: c.wholeSeeds.text,
      shard: `${c.shard.index}/${c.shard.count}`,
      total: this.#plan.total,
      seeds: this.#seeds,
      failureCount: this.#failureCount,
      failures: this.#failures,
      ok: this.#failureCount === 0,
      steps: this.#steps,
      seconds: Number(seconds.toFixed(3)),
      seedsPerSecond: Number((this.#seeds / Math.max(seconds, 1e-3)).toFixed(1)),
      complete,
      stopped: this.#stopped,
      covered: this.#plan.covered(),
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      ...(c.probes ? { probes: this.#probeReports() } : {}),
    };
  }

  #write(result: SweepJson): void {
    if (this.#c.json !== undefined) emitJson(this.#c.json, result, 'the sweep results');
    if (this.#c.junit !== undefined) {
      const title = `stairwell sweep ${this.#c.target} --seeds ${result.range}${this.#c.shard.count > 1 ? ` --shard ${result.shard}` : ''}`;
      outputs.write(this.#c.junit, sweepJunit({ ...result, seedsByScenario: this.#seedsByScenario }, title), 'the JUnit results');
    }
  }

  #finish(): number {
    this.#progress.clear();
    // A budget that ran out with the last seed stopped nothing.
    if (this.#seeds === this.#plan.total) this.#stopped = null;
    const result = this.#report(this.#stopped === null);
    this.#write(result);
    if (this.#c.json !== '') process.stdout.write(`${summaryLines(result).join('\n')}\n`);
    if (this.#c.json !== '' && result.probes !== undefined) process.stdout.write(`${probeLines(result.probes, (name) => this.#c.scenarios.find((s) => s.name === name)!.requiredProbes).join('\n')}\n`);
    return result.ok ? EXIT.ok : EXIT.violation;
  }

  #interrupted(signal: NodeJS.Signals): void {
    this.#progress.clear();
    this.#stopped = 'interrupted';
    const result = this.#report(false);
    this.#write(result);
    const kept = [this.#c.json, this.#c.junit].filter((p) => p !== undefined && p !== '');
    process.stderr.write(`sweep interrupted after ${result.seeds} seeds, ${result.failureCount} failed${kept.length > 0 ? `; results so far in ${kept.join(' and ')}` : ''}\n`);
    for (const line of outputs.lostLines()) process.stderr.write(`stairwell: ${line}\n`);
    process.exit(signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted);
  }
}
