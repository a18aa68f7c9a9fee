import test from 'ava';
import { runConfig } from '../../sim/run-config.ts';
import { seededChoices } from '../../sim/choice.ts';
import { firstDifferentStep, firstDivergentEvent } from '../../sim/divergence.ts';
import type { Env } from '../../ports/index.ts';
import { runSimulation, type RunSpec } from '../../sim/runner.ts';
import { noOracle, pinger } from '../helpers/ping-world.ts';

const limits = { workloadMs: 300, livenessMs: 50, maxSteps: 10_000 };
const config = runConfig({ ...limits, link: { delayMsMin: 1, delayMsMax: 20, lossPerMille: 100, dupPerMille: 50, fifo: false } });

/** A world where b, when `extra`, sends one extra message on its fifth tick: two runs that part mid-way. */
function spec(extra: boolean, extraChoice = false): RunSpec {
  return {
    config,
    setup(sim) {
      if (extraChoice) sim.choices.choose('leak.extra', 7);
      let ticks = 0;
      const onTick = extra ? (env: Env): void => void (++ticks === 5 && env.send('a', { type: 'Extra' })) : undefined;
      sim.addNode(pinger('a', 'b', 10));
      sim.addNode(pinger('b', 'a', 10, onTick));
      return noOracle;
    },
  };
}

test('per-step prints of the same run agree; another run differs at a named step', (t) => {
  const a = runSimulation(spec(false), seededChoices('5'), { stepPrints: true });
  const b = runSimulation(spec(false), seededChoices('5'), { stepPrints: true });
  const c = runSimulation(spec(true), seededChoices('5'), { stepPrints: true });
  t.is(a.stepPrints!.length, a.steps);
  t.is(firstDifferentStep(a.stepPrints!, b.stepPrints!), null);
  const step = firstDifferentStep(a.stepPrints!, c.stepPrints!);
  t.true(step !== null && step > 1, `parted at ${step}`);
  t.is(firstDifferentStep([1, 2], [1, 2, 3]), 3, 'a run that ends first differs at its end');
});

test('two traced runs that differ are named at their first differing event, both versions', (t) => {
  const a = runSimulation(spec(false), seededChoices('5'), { trace: true });
  const c = runSimulation(spec(true), seededChoices('5'), { trace: true });
  t.is(firstDivergentEvent(a, runSimulation(spec(false), seededChoices('5'), { trace: true })), null);
  const d = firstDivergentEvent(a, c)!;
  t.truthy(d);
  t.not(d.first, d.second);
  // b's tick sends the extra message before its Ping: the trace shows sends, so that is where they part.
  t.regex(d.first, /b sends a msg Ping/);
  t.regex(d.second, /b sends a msg Extra/);
  t.true(d.step > 1);
});

test('runs whose events agree but whose choices differ are told apart by the choices', (t) => {
  const a = runSimulation(spec(false), seededChoices('5'), { trace: true, stepPrints: true });
  const b = runSimulation(spec(false, true), seededChoices('5'), { trace: true, stepPrints: true });
  t.not(a.fingerprint, b.fingerprint);
  const d = firstDivergentEvent(a, b)!;
  t.is(d.step, 0, 'drawn while the world was set up');
  t.regex(d.second, /choice leak\.extra=\d/);
});
