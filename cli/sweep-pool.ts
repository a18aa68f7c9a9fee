// Sweeps on every core: worker threads, each running the bundled CLI module again (it sees
// `workerData.stairwellSweepWorker` and serves batches instead of running a command), pull
// batches of seeds from the main thread and send back each seed's result. Results are the same
// as a sequential sweep's; only the order they arrive in differs, and the caller sorts.

import { Worker, parentPort } from 'node:worker_threads';
import { findScenario } from '../scenarios/index.ts';
import type { Strategy } from '../sim/strategy.ts';
import { sweepSeed, type SeedResult } from './sweep-seed.ts';

export interface Batch {
  readonly scenario: string;
  readonly bugs: readonly string[];
  readonly seeds: readonly number[];
  readonly checkDeterminism: boolean;
  readonly strategy: Strategy;
}

interface BatchDone {
  readonly scenario: string;
  readonly results: readonly (SeedResult & { readonly seed: number })[];
}

const BATCH_SEEDS = 10;

/** The worker side: serve batches until the main thread closes the port. */
export function serveSweepBatches(): void {
  parentPort!.on('message', (b: Batch) => {
    const scenario = findScenario(b.scenario)!;
    const results = b.seeds.map((seed) => ({ seed, ...sweepSeed(scenario, b.bugs, seed, b.checkDeterminism, b.strategy) }));
    parentPort!.postMessage({ scenario: b.scenario, results } satisfies BatchDone);
  });
}

/** The main side: run every (scenario, seed) on `workers` threads; `onResult` sees each as it lands. */
export function sweepInWorkers(
  moduleUrl: URL,
  workers: number,
  jobs: readonly { readonly scenario: string; readonly seeds: readonly number[] }[],
  bugs: readonly string[],
  checkDeterminism: boolean,
  strategy: Strategy,
  onResult: (scenario: string, seed: number, result: SeedResult) => void,
): Promise<void> {
  const batches: Batch[] = [];
  for (const job of jobs) {
    for (let i = 0; i < job.seeds.length; i += BATCH_SEEDS) batches.push({ scenario: job.scenario, bugs, seeds: job.seeds.slice(i, i + BATCH_SEEDS), checkDeterminism, strategy });
  }
  let next = 0;
  return new Promise((resolve, reject) => {
    let live = 0;
    const count = Math.min(workers, Math.max(1, batches.length));
    for (let w = 0; w < count; w++) {
      const worker = new Worker(moduleUrl, { workerData: { stairwellSweepWorker: true } });
      live++;
      const feed = (): void => {
        const batch = batches[next++];
        if (batch === undefined) void worker.terminate();
        else worker.postMessage(batch);
      };
      worker.on('message', (done: BatchDone) => {
        for (const r of done.results) onResult(done.scenario, r.seed, r);
        feed();
      });
      worker.on('error', reject);
      worker.on('exit', () => {
        if (--live === 0) resolve();
      });
      feed();
    }
  });
}
