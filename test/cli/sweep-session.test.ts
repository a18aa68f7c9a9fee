import test from 'ava';
import { runConfig } from '../../sim/run-config.ts';
import { SweepSession, type SweepConfig } from '../../cli/sweep-session.ts';
import type { Scenario } from '../../api/scenario.ts';
import type { Env } from '../../ports/index.ts';
import type { RunSpec } from '../../sim/runner.ts';
import { seedRange, sharded, WHOLE, type Shard } from '../../sim/seed-sequence.ts';
import { captured } from '../helpers/capture.ts';
import { noOracle, pinger } from '../helpers/ping-world.ts';

// A determinism finding in a sweep gives a command that reproduces it: the sweep's seeds up to
// that one, in one thread, each checked, because what leaks between runs needs the runs before.

const limits = { workloadMs: 300, livenessMs: 50, maxSteps: 10_000 };
const config = runConfig(limits);

/** The fifth run of the process (and only it) differs: a leak from the runs before. */
function leakyOnFifthRun(): Scenario {
  let runs = 0;
  const spec: RunSpec = {
    config: runConfig({ ...limits, link: { delayMsMin: 1, delayMsMax: 20, lossPerMille: 0, dupPerMille: 0, fifo: false } }),
    setup(sim) {
      const extra = runs++ === 4;
      let ticks = 0;
      sim.addNode(pinger('a', 'b', 10));
      sim.addNode(pinger('b', 'a', 10, (env: Env) => void (++ticks === 5 && extra && env.send('a', { type: 'Extra' }))));
      return noOracle;
    },
  };
  return { name: 'leaky', summary: '', config, file: null, invariants: [], faultMenu: [], requiredProbes: [], spec: () => spec };
}

async function sweepJson(shard: Shard): Promise<{ failures: { seed: number; invariant: string; replay: string; message: string }[] }> {
  const whole = seedRange(1, 10);
  const config: SweepConfig = {
    target: 'leaky',
    scenarios: [leakyOnFifthRun()],
    wholeSeeds: whole,
    seeds: sharded(whole, shard),
    shard,
    bugs: [],
    strategy: 'random',
    checkDeterminism: true,
    workers: 1,
    workerModule: null,
    json: '',
    junit: undefined,
    tapes: undefined,
    secondsMax: null,
    maxFailures: null,
    quiet: true,
    probes: false,
  };
  return JSON.parse((await captured(() => new SweepSession(config).run())).stdout);
}

test.serial('the replay of a determinism finding runs the seeds before it in one thread', async (t) => {
  const j = await sweepJson(WHOLE);
  t.is(j.failures.length, 1);
  const f = j.failures[0]!;
  t.is(f.invariant, 'DETERMINISM');
  t.is(f.seed, 3, 'runs 5 and 6 of the process are seed 3');
  t.is(f.replay, 'npx stairwell sweep leaky --seeds 1..3 --check-determinism --workers 1');
  t.regex(f.message, /state left by the runs before them in this thread/);
});

test.serial('in a shard, the replay is that shard cut at the seed', async (t) => {
  const j = await sweepJson({ index: 2, count: 2 });
  const f = j.failures[0]!;
  t.is(f.seed, 6, 'shard 2/2 runs seeds 2, 4, 6: the fifth and sixth runs are seed 6');
  t.is(f.replay, 'npx stairwell sweep leaky --seeds 1..6 --shard 2/2 --check-determinism --workers 1');
});
