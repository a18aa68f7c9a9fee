// The lease scenario from a test suite of its own, through stairwell's fast-check bridge: the
// fixed protocol holds over random tapes, and with the planted switch on fast-check finds the
// bug, shrinks the tape it drew, writes it and says how to replay it.
import test from 'ava';
import { assertScenario, ScenarioFailure, seeds, tapes } from 'stairwell/fast-check';
import { runScenario, sweepScenario } from 'stairwell';
import { lease } from '../scenario.ts';

test('the lease holds over 200 drawn tapes of the fixed protocol', (t) => {
  t.notThrows(() => assertScenario(lease, tapes(lease), { numRuns: 200, seed: 1 }));
});

test('with lease/count-from-reply on, fast-check finds two holders and prints how to replay them', (t) => {
  const bugs = ['lease/count-from-reply'];
  const error = t.throws(() => assertScenario(lease, tapes(lease, { bugs }), { bugs, numRuns: 200, seed: 1, tapeDir: 'failures' }), { instanceOf: ScenarioFailure });
  t.regex(error!.message, /L-I1 at step \d+: client-\d and client-\d both hold the lease/);
  t.regex(error!.replay, /^npx stairwell replay failures\/lease-lease_count_from_reply\.json$/);
  t.log(error!.replay);
});

test('over seeds too: the run command of the failing seed', (t) => {
  const bugs = ['lease/count-from-reply'];
  const error = t.throws(() => assertScenario(lease, seeds({ max: 10_000 }), { bugs, numRuns: 50, seed: 2, tapeDir: 'failures' }));
  t.regex(error!.message, /replay: npx stairwell run \.\/scenario\.ts --seed \d+ --bug lease\/count-from-reply/);
});

test('the library runs and sweeps the scenario as the command line does', (t) => {
  const report = sweepScenario(lease, { seeds: { from: 1, to: 100 } });
  t.is(report.seeds, 100);
  t.deepEqual(report.failures, []);
  const failing = runScenario(lease, { seed: 1, bugs: ['lease/count-from-reply'] });
  t.is(failing.violation?.invariant, 'L-I1');
  t.true(failing.story !== null && failing.story.length <= 30);
  t.is(failing.tape.scenario, 'lease');
});
