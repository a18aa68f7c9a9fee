// Registries are checked when they load: every invariant a scenario names is described, every
// switch names an existing scenario and an invariant that scenario checks, no id twice.
import test from 'ava';
import { defineRegistry, RegistryError } from '../../api/registry.ts';
import { defineScenario } from '../../api/scenario.ts';
import { BUILTIN, SCENARIOS } from '../../scenarios/index.ts';

const world = (name: string, invariants: string[]) => defineScenario({ name, summary: name, invariants, setup: () => ({ afterStep: () => null, unmetGoal: () => null }) });
const lease = world('lease', ['L-I1']);
const described = [{ id: 'L-I1', kind: 'safety' as const, text: 'one holder' }];

test('a consistent registry loads, with the engine invariants described and appliesTo filled in', (t) => {
  const r = defineRegistry({ scenarios: [lease], invariants: described, bugs: [{ id: 'lease/x', title: 't', source: 'planted', scenario: 'lease', invariant: 'L-I1' }] });
  t.deepEqual(r.bug('lease/x')?.appliesTo, ['lease']);
  t.is(r.invariant('PANIC')?.kind, 'engine');
  t.is(r.scenario('lease'), lease);
});

test('every inconsistency is named, all at once', (t) => {
  const error = t.throws(
    () =>
      defineRegistry({
        scenarios: [lease, world('lease', ['L-I1']), world('other', ['L-I9'])],
        invariants: described,
        bugs: [
          { id: 'lease/a', title: 't', source: 's', scenario: 'nowhere', invariant: 'L-I1' },
          { id: 'lease/b', title: 't', source: 's', scenario: 'lease', invariant: 'L-I2' },
          { id: 'lease/c', title: 't', source: 's', scenario: 'lease', invariant: 'L-I1', appliesTo: ['other', 'ghost'] },
        ],
      }),
    { instanceOf: RegistryError },
  );
  t.deepEqual(error!.problems, [
    'scenario lease is defined twice',
    'scenario other checks L-I9, which no invariant describes',
    'bug lease/a names scenario nowhere, which does not exist',
    'bug lease/b is caught by L-I2, which its scenario lease does not check',
    'bug lease/b is caught by L-I2, which no invariant describes',
    'bug lease/c does not apply to its own scenario lease',
    'bug lease/c applies to scenario ghost, which does not exist',
  ]);
});

test('a scenario definition is checked too: its name, its invariants, its run configuration', (t) => {
  t.throws(() => world('Lease Server', ['L-I1']), { message: /lower case letters, digits and dashes/ });
  t.throws(() => world('lease', []), { message: /checks no invariant/ });
  t.throws(() => defineScenario({ name: 'lease', summary: '', invariants: ['L-I1'], config: { nemesis: { episodeMsMin: 500, episodeMsMax: 100 } }, setup: () => ({ afterStep: () => null, unmetGoal: () => null }) }), {
    message: /nemesis\.episodeMsMin is above nemesis\.episodeMsMax/,
  });
});

test('the built-in registry is the scenarios, their catalog and their switches, consistent', (t) => {
  t.deepEqual(BUILTIN.scenarios, SCENARIOS);
  for (const s of SCENARIOS) for (const id of s.invariants) t.truthy(BUILTIN.invariant(id), `${s.name}: ${id}`);
  for (const b of BUILTIN.bugs) t.true(BUILTIN.scenario(b.scenario)!.invariants.includes(b.invariant) || b.invariant === 'PANIC', b.id);
});
