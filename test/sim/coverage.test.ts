import test from 'ava';
import { crucibleReplacement } from '../../scenarios/crucible-replacement.ts';
import { crucibleTakeover } from '../../scenarios/crucible-takeover.ts';
import { alignedReplay, TapeReplay } from '../../sim/choice.ts';
import { CoverageMap, CoverageSearch, signatureOf } from '../../sim/coverage.ts';
import { runSimulation } from '../../sim/runner.ts';

test('coverage counts transitions: pairs of consecutive signatures at one node', (t) => {
  const map = new CoverageMap();
  map.beginRun();
  map.visit(0, 'A');
  map.visit(0, 'B');
  map.visit(1, 'B');
  map.visit(0, 'B');
  t.is(map.edges.size, 4, 'start>A, A>B and B>B at node 0; start>B at node 1');
  t.is(signatureOf({ type: 'Ping' }), 'Ping');
  t.is(signatureOf({ created: true, id: 'a-very-long-identifier-here' }), '{created=true,id}');
  t.not(signatureOf({ created: true }), signatureOf({ created: false }));
});

test('a coverage search keeps tapes that reach new transitions, and is the same search given the same base', (t) => {
  const spec = crucibleTakeover.spec(new Set());
  const sweep = (): string[] => {
    const search = new CoverageSearch('test');
    const prints: string[] = [];
    for (let i = 1; i <= 30; i++) {
      const o = runSimulation(spec, search.choicesFor(i), { strategy: 'coverage', coverage: search.map });
      const fresh = search.observe(o.choices.values);
      if (i === 1) t.true(fresh > 0, 'the first run reaches only new transitions');
      prints.push(o.fingerprint);
    }
    t.true(search.corpusSize >= 1 && search.corpusSize < 30, `corpus ${search.corpusSize}`);
    return prints;
  };
  t.deepEqual(sweep(), sweep());
});

test('a failure the coverage search finds replays from its tape alone', (t) => {
  const bugs = new Set(['crucible/replace-while-initializing']);
  const search = new CoverageSearch('find');
  for (let i = 1; i <= 500; i++) {
    const o = runSimulation(crucibleReplacement.spec(bugs), search.choicesFor(i), { strategy: 'coverage', coverage: search.map });
    search.observe(o.choices.values);
    if (o.violation === null) continue;
    const again = runSimulation(crucibleReplacement.spec(bugs), new TapeReplay(o.choices.values, o.choices.labels).recorder, { strategy: 'coverage' });
    t.is(again.fingerprint, o.fingerprint);
    t.is(again.violation?.invariant, 'PANIC');
    return;
  }
  t.fail('not found in 500 runs');
});

test('an aligned replay skips tape entries the code no longer asks for', (t) => {
  const spec = () => crucibleTakeover.spec(new Set(['crucible/disable-one-client']));
  const o = runSimulation(spec(), new TapeReplay([], null).recorder);
  const labels = [...o.choices.labels];
  const values = [...o.choices.values];
  // The code "used to" draw two more choices near the start.
  labels.splice(2, 0, 'retired.a', 'retired.b');
  values.splice(2, 0, 3, 4);
  const replay = new TapeReplay(values, labels);
  const shifted = runSimulation(spec(), replay.recorder);
  t.is(replay.divergence?.index, 2);
  t.not(shifted.fingerprint, o.fingerprint);
  t.is(runSimulation(spec(), alignedReplay(values, labels)).fingerprint, o.fingerprint);
});
