import test from 'ava';
import { HarnessError } from '../../cli/exit.ts';
import { SweepPlan } from '../../api/sweep-plan.ts';
import { sweepInWorkers, type Batch } from '../../cli/sweep-pool.ts';
import { seedRange } from '../../sim/seed-sequence.ts';

// The pool's failure paths, with a stand-in worker (test/helpers/failing-sweep-worker.mjs): a
// harness failure in a worker names the scenario and seed and ends the sweep; a worker that dies
// holding a batch is never taken for a finished sweep.

const WORKER = new URL('../helpers/failing-sweep-worker.mjs', import.meta.url);

function planOf(seeds: number): () => Batch | null {
  const plan = new SweepPlan(['s'], seedRange(1, seeds));
  return () => {
    const b = plan.next();
    return b === null ? null : { ...b, bugs: [], checkDeterminism: false, strategy: 'random' };
  };
}

/** Run the pool on two stand-in workers in `mode`, counting the seeds that came back. */
async function pool(mode: string, seeds: number): Promise<{ done: number; error: unknown }> {
  process.env.STAIRWELL_TEST_WORKER_MODE = mode;
  let done = 0;
  try {
    await sweepInWorkers(WORKER, 2, planOf(seeds), (b) => (done += b.results.length));
    return { done, error: null };
  } catch (error) {
    return { done, error };
  }
}

test.serial('a clean pool returns every seed', async (t) => {
  const r = await pool('serve', 95);
  t.is(r.error, null);
  t.is(r.done, 95);
});

test.serial('an exception while running a seed ends the sweep as a harness error naming it', async (t) => {
  const r = await pool('fail', 95);
  t.true(r.error instanceof HarnessError);
  t.is((r.error as Error).message, 'while running s seed 13: the oracle threw');
  t.true(r.done < 95);
});

test.serial('a worker that exits in the middle of a batch is an error, not a finished sweep', async (t) => {
  const r = await pool('exit', 95);
  t.true(r.error instanceof HarnessError);
  t.regex((r.error as Error).message, /exited \(status 7\) in the middle of a batch/);
});
