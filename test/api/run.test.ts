// The library's runs are the command line's: a seed, a sweep, a shrink and a replay give the
// same verdicts, and a tape replays under the configuration it records, whatever the defaults.
import test from 'ava';
import { replayTape, runScenario, shrinkFailure, sweepScenario } from '../../api/run.ts';
import { runConfig } from '../../sim/run-config.ts';
import { lease } from '../../examples/lease/scenario.ts';

const BUG = ['lease/count-from-reply'];

test('runScenario: a failing seed gives its violation, story, tape and the command that runs it again', (t) => {
  const r = runScenario(lease, { seed: 1, bugs: BUG });
  t.is(r.violation?.invariant, 'L-I1');
  t.regex(r.replay ?? '', /^npx stairwell run \.\/examples\/lease\/scenario\.ts --seed 1 --bug lease\/count-from-reply$/);
  t.true(r.story!.some((line) => line.includes('holds the lease until')));
  t.is(replayTape(lease, r.tape).fingerprint, r.fingerprint);
});

test('a tape replays under the configuration it records, not the scenario default', (t) => {
  const config = runConfig({ workloadMs: 3_000, livenessMs: 3_000, nemesis: { injectPerMille: 800 } }, lease.config);
  const r = runScenario(lease, { seed: 5, config });
  t.is(r.tape.config?.nemesis.injectPerMille, 800);
  t.is(replayTape(lease, r.tape).fingerprint, r.fingerprint);
  const { config: _recorded, ...without } = r.tape;
  t.not(replayTape(lease, without).fingerprint, r.fingerprint, 'under the defaults it is another run');
});

test('sweepScenario and shrinkFailure: the planted bug found, then cut to a few decisions', (t) => {
  t.deepEqual(sweepScenario(lease, { seeds: { from: 1, to: 200 } }).failures, []);
  const found = sweepScenario(lease, { seeds: { from: 1, to: 200 }, bugs: BUG, maxFailures: 3 });
  t.is(found.failures.length, 3);
  const first = runScenario(lease, { seed: found.failures[0]!.seed, bugs: BUG });
  const shrunk = shrinkFailure(lease, { tape: first.tape, budgetRuns: 500 })!;
  t.is(shrunk.violation?.invariant, 'L-I1');
  t.is(shrunk.replay, null, 'a shrunk run is made again from its tape, not a seed');
  t.true(shrunk.tape.choices.length <= first.tape.choices.length);
  t.is(shrinkFailure(lease, { seed: 1, budgetRuns: 50 }), null, 'the fixed protocol has nothing to shrink');
});
