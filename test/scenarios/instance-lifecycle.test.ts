import test from 'ava';
import fc from 'fast-check';
import { INVARIANTS } from '../../oracle/catalog.ts';
import { BUGS } from '../../scenarios/index.ts';
import { instanceLifecycle } from '../../scenarios/instance-lifecycle.ts';
import { SCENARIOS, findScenario } from '../../scenarios/index.ts';
import { seededChoices, TapeReplay } from '../../sim/choice.ts';
import { runSimulation } from '../../sim/runner.ts';
import { testSwitchesOf } from '../helpers/switch-sweeps.ts';

/** The budget for finding a registered bug. */
const BUG_SEEDS = 2000;

/** The first failing seed in 1..seeds, or null. */
function firstFailure(bugs: string[], seeds: number): { seed: number; invariant: string } | null {
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runSimulation(instanceLifecycle.spec(new Set(bugs)), seededChoices(String(seed)));
    if (r.violation !== null) return { seed, invariant: r.violation.invariant };
  }
  return null;
}

test('the fixed protocol is clean over the seeds the bug sweeps use', (t) => {
  t.is(firstFailure([], BUG_SEEDS), null);
});

testSwitchesOf('instance-lifecycle', (bugs, seed) => runSimulation(instanceLifecycle.spec(new Set(bugs)), seededChoices(String(seed))), { firstFailureIsIt: true });

test('the bug registry names scenarios and invariants that exist and check each other', (t) => {
  for (const bug of BUGS) {
    const scenario = findScenario(bug.scenario);
    t.truthy(scenario, bug.id);
    t.true(scenario!.invariants.includes(bug.invariant), `${bug.scenario} checks ${bug.invariant}`);
  }
  for (const s of SCENARIOS) for (const id of s.invariants) t.truthy(INVARIANTS.find((i) => i.id === id), id);
});

test('property: any tape gives a run that ends within its bounds, and the same run twice', (t) => {
  const limits = instanceLifecycle.config;
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 1200 }), { size: 'medium' }), (values) => {
      const once = runSimulation(instanceLifecycle.spec(new Set()), new TapeReplay(values, null).recorder);
      const twice = runSimulation(instanceLifecycle.spec(new Set()), new TapeReplay(values, null).recorder);
      return (
        once.steps <= limits.maxSteps &&
        once.timeMs <= limits.workloadMs + limits.livenessMs &&
        once.fingerprint === twice.fingerprint &&
        once.steps === twice.steps &&
        (once.violation?.invariant ?? null) === (twice.violation?.invariant ?? null)
      );
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test('a seed replayed from its own tape fails at the same step with the same fingerprint', (t) => {
  const bugs = new Set(['sled-agent/remove-before-notify']);
  let seed = 1;
  let first = runSimulation(instanceLifecycle.spec(bugs), seededChoices(String(seed)));
  while (first.ok && seed < BUG_SEEDS) first = runSimulation(instanceLifecycle.spec(bugs), seededChoices(String(++seed)));
  t.false(first.ok);
  const again = runSimulation(instanceLifecycle.spec(bugs), new TapeReplay(first.choices.values, first.choices.labels).recorder);
  t.deepEqual(again.violation, first.violation);
  t.is(again.fingerprint, first.fingerprint);
});
