// Sweeps on every core: worker threads, each running the bundled CLI module again (it sees
// `workerData.stairwellSweepWorker` and serves batches instead of running a command), pull
// batches of seeds from the main thread and send back each seed's result. Results are the same
// as a sequential sweep's; only the order they arrive in differs, and the caller sorts.
// The main thread hands out batches until `next` has none (the plan is done, or the sweep was
// told to stop); batches already out finish. An exception while running a seed is a harness
// bug: the worker reports it with the scenario and seed, and the sweep ends with exit 3.

import { Worker, parentPort } from 'node:worker_threads';
import { registry, scenarioFile, useScenarioFile } from './registry.ts';
import type { Strategy } from '../sim/strategy.ts';
import { HarnessError } from './exit.ts';
import { sweepSeed, type SeedResult } from '../api/sweep-seed.ts';

export interface Batch {
  readonly scenario: string;
  readonly bugs: readonly string[];
  /** Index of the first seed in the sweep's seed sequence. */
  readonly from: number;
  readonly seeds: readonly number[];
  readonly checkDeterminism: boolean;
  readonly strategy: Strategy;
}

export interface BatchDone {
  readonly scenario: string;
  readonly from: number;
  readonly results: readonly (SeedResult & { readonly seed: number })[];
}

interface BatchFailed {
  readonly failed: { readonly context: string; readonly message: string; readonly stack: string };
}

/**
 * Each worker's young generation. V8's default let two workers' heaps take a sweep to 306-312 MB
 * resident in 10 s; 16 MB keeps it at 249-260 MB at the same speed (2,076-2,250 seeds/s against
 * 2,180-2,245 on this 2-core machine); 8 MB was 10% slower.
 */
const WORKER_YOUNG_GENERATION_MB = 16;

/** The worker side: load the main thread's scenario file, if any, then serve batches until the main thread terminates it. */
export async function serveSweepBatches(file: string | null): Promise<void> {
  await useScenarioFile(file);
  parentPort!.on('message', (b: Batch) => {
    const scenario = registry().scenario(b.scenario)!;
    const results: (SeedResult & { seed: number })[] = [];
    for (const seed of b.seeds) {
      try {
        results.push({ seed, ...sweepSeed(scenario, b.bugs, seed, b.checkDeterminism, b.strategy) });
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        parentPort!.postMessage({ failed: { context: `while running ${b.scenario} seed ${seed}`, message: e.message, stack: e.stack ?? '' } } satisfies BatchFailed);
        return;
      }
    }
    parentPort!.postMessage({ scenario: b.scenario, from: b.from, results } satisfies BatchDone);
  });
}

/** The main side: run batches from `next` on `workers` threads; `onBatch` sees each as it lands. */
export function sweepInWorkers(moduleUrl: URL, workers: number, next: () => Batch | null, onBatch: (done: BatchDone) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const pool = new Set<Worker>();
    /** Workers holding a batch: one that exits while holding it lost those seeds. */
    const busy = new Set<Worker>();
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      for (const w of pool) void w.terminate();
      reject(error);
    };
    for (let w = 0; w < workers; w++) {
      const worker = new Worker(moduleUrl, { workerData: { stairwellSweepWorker: true, scenarioFile: scenarioFile() }, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
      pool.add(worker);
      const feed = (): void => {
        const batch = settled ? null : next();
        if (batch === null) {
          busy.delete(worker);
          void worker.terminate();
        } else {
          busy.add(worker);
          worker.postMessage(batch);
        }
      };
      worker.on('message', (message: BatchDone | BatchFailed) => {
        if ('failed' in message) return fail(workerFailure(message.failed));
        try {
          onBatch(message);
        } catch (error) {
          return fail(error instanceof Error ? error : new Error(String(error)));
        }
        feed();
      });
      worker.on('error', (error) => fail(new HarnessError('a sweep worker failed', error)));
      worker.on('exit', (code) => {
        if (busy.has(worker)) fail(new HarnessError('a sweep worker', new Error(`exited (status ${code}) in the middle of a batch`)));
        pool.delete(worker);
        if (pool.size === 0 && !settled) {
          settled = true;
          resolve();
        }
      });
      feed();
    }
  });
}

function workerFailure(f: BatchFailed['failed']): HarnessError {
  const cause = new Error(f.message);
  cause.stack = f.stack;
  return new HarnessError(f.context, cause);
}
