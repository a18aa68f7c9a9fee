// A stand-in for the bundled CLI in a sweep worker (cli/sweep-pool.ts), to test how the pool
// takes a worker's failures: `fail` reports an exception while running a seed, `exit` dies in the
// middle of a batch, anything else serves the batch. The mode comes from the environment, which
// a worker copies from its parent when it starts.
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (batch) => {
  const mode = process.env.STAIRWELL_TEST_WORKER_MODE;
  if (mode === 'fail' && batch.seeds.includes(13)) {
    parentPort.postMessage({ failed: { context: `while running ${batch.scenario} seed 13`, message: 'the oracle threw', stack: 'Error: the oracle threw\n    at oracle.ts:1:1' } });
    return;
  }
  if (mode === 'exit') process.exit(7);
  parentPort.postMessage({ scenario: batch.scenario, from: batch.from, results: batch.seeds.map((seed) => ({ seed, steps: 1, failure: null })) });
});
