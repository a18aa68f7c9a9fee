import test from 'ava';
import { keyedReplay } from '../../sim/choice.ts';
import { decisionsOf, shrinkDecisions, type Decision } from '../../sim/shrink-decisions.ts';
import type { ShrinkRun } from '../../sim/shrink.ts';

const clock = (): (() => number) => {
  let t = 0;
  return () => t++;
};

test('decisions are keyed by label and occurrence: the k-th draw of a label', (t) => {
  t.deepEqual(decisionsOf(['a', 'b', 'a', 'a'], [0, 3, 5, 0]), [
    { label: 'b', occurrence: 0, value: 3 },
    { label: 'a', occurrence: 1, value: 5 },
  ]);
});

test('a keyed replay answers each label\'s k-th draw from its decision, everything else 0', (t) => {
  const r = keyedReplay([{ label: 'fault', occurrence: 1, value: 2 }]);
  // A new draw of another label in between does not shift which 'fault' draw gets the value.
  t.deepEqual([r.choose('fault', 5), r.choose('delay', 9), r.choose('fault', 5), r.choose('fault', 5)], [0, 0, 2, 0]);
  t.is(keyedReplay([{ label: 'x', occurrence: 0, value: 9 }]).choose('x', 4), 3, 'clamped to the range');
});

/**
 * A toy program: it draws a 'gate' per round (5 rounds); a round whose gate is non-zero draws an
 * extra 'kind' (which shifts positions after it). It fails with X when round 3's gate is open
 * with kind 2 and round 1's gate is open; with Y if any kind is 4.
 */
function toy(decisions: readonly Decision[]): ShrinkRun {
  const rec = keyedReplay(decisions);
  let open1 = false;
  let verdict: string | null = null;
  for (let round = 0; round < 5; round++) {
    const gate = rec.choose('gate', 10);
    if (gate === 0) continue;
    const kind = rec.choose('kind', 5);
    if (round === 1) open1 = true;
    if (kind === 4) verdict ??= 'Y';
    if (round === 3 && kind === 2 && open1) verdict ??= 'X';
  }
  return { invariant: verdict, values: rec.values, labels: rec.labels, steps: rec.values.length };
}

test('the decision shrinker keeps the bug, never slides onto another, and drops and lowers what it can', (t) => {
  const noisy: Decision[] = [
    { label: 'gate', occurrence: 0, value: 7 },
    { label: 'gate', occurrence: 1, value: 9 },
    { label: 'gate', occurrence: 2, value: 3 },
    { label: 'gate', occurrence: 3, value: 8 },
    { label: 'gate', occurrence: 4, value: 1 },
    { label: 'kind', occurrence: 0, value: 1 },
    { label: 'kind', occurrence: 1, value: 3 },
    { label: 'kind', occurrence: 2, value: 1 },
    { label: 'kind', occurrence: 3, value: 2 },
  ];
  const start = toy(noisy);
  t.is(start.invariant, 'X');
  const r = shrinkDecisions(start, (d) => toy(d), { budgetRuns: 1000, capMs: 1e9, now: clock() });
  const end = toy(decisionsOf(toyLabels(r.values), r.values));
  t.is(end.invariant, 'X', 'never slides onto Y');
  // Rounds 0 to 3 open (a closed round 0 or 2 would hand its 'kind' occurrence to the next
  // round: the limit of keying by occurrence), round 3 of kind 2; round 4's gate and the values
  // left are dropped or lowered: 4 gates of 1 and one kind of 2.
  t.deepEqual(r.values.filter((v) => v !== 0), [1, 1, 1, 1, 2]);
  t.false(r.timedOut);
});

test('the decision shrinker stops at its budget of runs', (t) => {
  let runs = 0;
  const counted = (d: readonly Decision[]): ShrinkRun => {
    runs++;
    return toy(d);
  };
  const start = toy([
    { label: 'gate', occurrence: 1, value: 9 },
    { label: 'gate', occurrence: 3, value: 8 },
    { label: 'kind', occurrence: 1, value: 2 },
  ]);
  const r = shrinkDecisions(start, counted, { budgetRuns: 2, capMs: 1e9, now: clock() });
  t.is(runs, 2);
  t.is(r.runs, 2);
});

/** The labels of a positional tape of the toy, replayed: what a run's recorder would hold. */
function toyLabels(values: readonly number[]): string[] {
  const labels: string[] = [];
  let i = 0;
  for (let round = 0; round < 5 && i < values.length; round++) {
    labels.push('gate');
    if (values[i++] !== 0 && i < values.length) {
      labels.push('kind');
      i++;
    }
  }
  return labels;
}
