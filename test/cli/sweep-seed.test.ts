import test from 'ava';
import { runConfig } from '../../sim/run-config.ts';
import { sweepSeed } from '../../api/sweep-seed.ts';
import type { Scenario } from '../../api/scenario.ts';
import type { Env } from '../../ports/index.ts';
import type { RunSpec } from '../../sim/runner.ts';
import { noOracle, pinger } from '../helpers/ping-world.ts';

// Determinism findings (sweep --check-determinism) from worlds that leak state between runs, the
// way a module-level cache or counter in protocol code would.

const limits = { workloadMs: 300, livenessMs: 50, maxSteps: 10_000 };
const config = runConfig(limits);

function leakyScenario(name: string, extraOnTick: () => boolean): Scenario {
  const spec: RunSpec = {
    config: runConfig({ ...limits, link: { delayMsMin: 1, delayMsMax: 20, lossPerMille: 0, dupPerMille: 0, fifo: false } }),
    setup(sim) {
      let ticks = 0;
      const extra = extraOnTick();
      sim.addNode(pinger('a', 'b', 10));
      sim.addNode(pinger('b', 'a', 10, (env: Env) => void (++ticks === 5 && extra && env.send('a', { type: 'Extra' }))));
      return noOracle;
    },
  };
  return { name, summary: 'a leaky world', config, file: null, invariants: [], faultMenu: [], requiredProbes: [], spec: () => spec };
}

test('a counter that leaks into every run: both versions of the first divergent event, at its step', (t) => {
  let runs = 0;
  const scenario = leakyScenario('counter', () => runs++ % 2 === 1);
  const r = sweepSeed(scenario, [], 3, true, 'random');
  const f = r.failure!;
  t.is(f.invariant, 'DETERMINISM');
  t.true(f.step > 1, `at step ${f.step}, not 0`);
  t.regex(f.message, new RegExp(`^two runs of seed 3 in one thread diverge at step ${f.step}: the first had '.+', the second '.+'$`));
  t.notRegex(f.message, /identical traces/);
});

test('state left by an earlier run only: the traced runs agree, and the finding says the runs before are the cause', (t) => {
  let runs = 0;
  // The first run of the process differs from every later one (a cache warmed by the first run).
  const scenario = leakyScenario('cold-cache', () => runs++ === 0);
  const f = sweepSeed(scenario, [], 3, true, 'random').failure!;
  t.is(f.invariant, 'DETERMINISM');
  t.true(f.step > 1);
  t.regex(f.message, /two traced runs made after them agree there \('#\d+ \d+ms .+'\), so the difference was state left by the runs before them in this thread/);
});

test('a world that does not leak passes the check', (t) => {
  const scenario = leakyScenario('sound', () => false);
  t.is(sweepSeed(scenario, [], 3, true, 'random').failure, null);
});
