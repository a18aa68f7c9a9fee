import test from 'ava';
import { execute } from '../../api/execute.ts';
import { BUGS } from '../../scenarios/index.ts';
import { findScenario, SCENARIOS } from '../../scenarios/index.ts';

// The registry says where each switch applies; the CLI refuses it elsewhere (exit 2) on the
// strength of that. So it must be true: a switch outside its scenarios changes nothing at all.

test('every switch applies to the scenario that exposes it, and names only scenarios that exist', (t) => {
  for (const bug of BUGS) {
    t.true(bug.appliesTo.includes(bug.scenario), bug.id);
    for (const name of bug.appliesTo) t.truthy(findScenario(name), `${bug.id}: ${name}`);
  }
});

test('a switch changes nothing in a scenario it does not apply to: the same runs, seed for seed', (t) => {
  for (const bug of BUGS) {
    for (const scenario of SCENARIOS.filter((s) => !bug.appliesTo.includes(s.name))) {
      for (let seed = 1; seed <= 15; seed++) {
        const off = execute({ scenario, bugs: [], seed }).outcome;
        const on = execute({ scenario, bugs: [bug.id], seed }).outcome;
        if (on.fingerprint !== off.fingerprint) t.fail(`${bug.id} changes ${scenario.name} seed ${seed}`);
      }
    }
  }
  t.pass();
});
