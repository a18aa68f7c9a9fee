import test from 'ava';
import { crucibleTakeover } from '../../scenarios/crucible-takeover.ts';
import { instanceLifecycle } from '../../scenarios/instance-lifecycle.ts';
import { seededChoices, TapeReplay } from '../../sim/choice.ts';
import { PctSchedule } from '../../sim/pct.ts';
import { runSimulation } from '../../sim/runner.ts';

/** A choice source that answers from a list (then 0). */
const scripted = (answers: number[]) => ({ choose: (_label: string, n: number) => Math.min(answers.shift() ?? 0, n - 1) });

test('pct: nodes take drawn places in the priority order, and a change point sends the node that runs to the bottom', (t) => {
  // One change point at 40 ms; a joins, b goes above it, c between them: order b, c, a.
  const pct = new PctSchedule(scripted([40, 0, 0, 1]), 100, 2);
  for (const node of ['a', 'b', 'c']) pct.add(node);
  t.deepEqual(['b', 'c', 'a'].map((n) => pct.rank(n)), [0, 1, 2]);
  pct.afterStep(39, 'b');
  t.is(pct.rank('b'), 0, 'not yet: the change point is at 40 ms');
  pct.afterStep(41, ''); // an action of no node does not use the change point up
  pct.afterStep(41, 'b');
  t.deepEqual(['c', 'a', 'b'].map((n) => pct.rank(n)), [0, 1, 2]);
  pct.afterStep(90, 'c');
  t.is(pct.rank('c'), 0, 'one change point only');
});

test("pct: a message's delay falls in its receiver's slice of the range, higher priority sooner", (t) => {
  const pct = new PctSchedule(scripted([]), 100, 1);
  for (const node of ['a', 'b', 'c']) pct.add(node); // each added at the top: order c, b, a
  const band = [0, 0];
  const bands = ['c', 'b', 'a'].map((n) => {
    pct.delayBand(n, 1, 10, band);
    return [band[0]!, band[1]!];
  });
  t.deepEqual(bands, [[1, 4], [4, 7], [7, 10]]);
});

test('pct runs draw priorities and change points instead of uniform tie-breaks, and replay from their tapes', (t) => {
  const spec = () => instanceLifecycle.spec(new Set());
  const r = runSimulation(spec(), seededChoices('3'), { strategy: 'pct' });
  const labels = new Set(r.choices.labels);
  t.true(labels.has('pct.priority') && labels.has('pct.changeAtMs'));
  t.false(labels.has('sched.next'), 'ties go to the highest priority, with no draw');
  const again = runSimulation(spec(), new TapeReplay(r.choices.values, r.choices.labels).recorder, { strategy: 'pct' });
  t.is(again.fingerprint, r.fingerprint);
  t.not(runSimulation(crucibleTakeover.spec(new Set()), seededChoices('3'), { strategy: 'pct' }).fingerprint, runSimulation(crucibleTakeover.spec(new Set()), seededChoices('3')).fingerprint);
});
