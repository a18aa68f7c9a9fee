// Sweep scaling: seeds per second of a sweep of every scenario with one worker thread and with
// one per core, through the same pool (cli/sweep-pool.ts), so the ratio is the threads' gain
// alone. Medians of alternating rounds; the machine is shared, so its load average is reported.
// Each round starts fresh workers, which compile the simulator again before they run at full
// speed: short rounds measure that warm-up more than the sweep (2000 seeds of each scenario a
// round is the default).

import { availableParallelism, loadavg } from 'node:os';
import { SCENARIOS } from '../scenarios/index.ts';
import { SweepPlan } from '../api/sweep-plan.ts';
import { sweepInWorkers, type Batch } from '../cli/sweep-pool.ts';
import { seedRange } from '../sim/seed-sequence.ts';
import { median } from './throughput.ts';

export interface SweepScaling {
  readonly seedsPerRound: number;
  readonly cores: number;
  readonly seedsPerSecondOneWorker: number;
  readonly seedsPerSecondAllCores: number;
  readonly ratio: number;
  readonly loadAverage: number;
}

async function rate(moduleUrl: URL, workers: number, seedsPerScenario: number): Promise<number> {
  const plan = new SweepPlan(SCENARIOS.map((s) => s.name), seedRange(1, seedsPerScenario));
  const next = (): Batch | null => {
    const batch = plan.next();
    return batch === null ? null : { ...batch, bugs: [], checkDeterminism: false, strategy: 'random' };
  };
  let done = 0;
  const t0 = process.hrtime.bigint();
  await sweepInWorkers(moduleUrl, workers, next, (batch) => (done += batch.results.length));
  return done / (Number(process.hrtime.bigint() - t0) / 1e9);
}

export async function sweepScaling(moduleUrl: URL, seedsPerScenario: number, rounds: number): Promise<SweepScaling> {
  const cores = availableParallelism();
  const one: number[] = [];
  const all: number[] = [];
  for (let r = 0; r < rounds; r++) {
    one.push(await rate(moduleUrl, 1, seedsPerScenario));
    all.push(await rate(moduleUrl, cores, seedsPerScenario));
  }
  const a = median(one);
  const b = median(all);
  return {
    seedsPerRound: seedsPerScenario * SCENARIOS.length,
    cores,
    seedsPerSecondOneWorker: Math.round(a),
    seedsPerSecondAllCores: Math.round(b),
    ratio: Number((b / a).toFixed(3)),
    loadAverage: Number(loadavg()[0]!.toFixed(2)),
  };
}
