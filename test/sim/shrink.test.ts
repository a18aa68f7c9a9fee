import test from 'ava';
import { crucibleTakeover } from '../../scenarios/crucible-takeover.ts';
import { seededChoices, TapeReplay } from '../../sim/choice.ts';
import { runSimulation } from '../../sim/runner.ts';
import { shrinkTape, type ShrinkRun } from '../../sim/shrink.ts';

const clock = (): (() => number) => {
  let t = 0;
  return () => t++;
};

/** A toy "run": it fails with X when the tape holds a 7 somewhere after a 3, with Y when it holds a 9. */
function toy(values: readonly number[]): ShrinkRun {
  const three = values.indexOf(3);
  const seven = values.indexOf(7, three + 1);
  if (three >= 0 && seven >= 0) return { invariant: 'X', values: values.slice(0, seven + 1), steps: seven + 1 };
  if (values.includes(9)) return { invariant: 'Y', values, steps: values.length };
  return { invariant: null, values, steps: values.length };
}

test('the shrinker finds the smallest tape that fails the same invariant, never another', (t) => {
  const start = [5, 9, 1, 3, 8, 8, 2, 7, 4];
  const r = shrinkTape(toy(start), toy, { budgetRuns: 1e9, capMs: 1e9, now: clock() });
  t.deepEqual(r.values, [3, 7]);
  t.is(toy(r.values).invariant, 'X');
  t.false(r.timedOut);
});

test('the shrinker stops at its wall-clock cap with the best tape so far, and says so', (t) => {
  const start = [5, 9, 1, 3, 8, 8, 2, 7, 4];
  const r = shrinkTape(toy(start), toy, { budgetRuns: 1e9, capMs: 3, now: clock() });
  t.true(r.timedOut);
  t.is(toy(r.values).invariant, 'X');
});

test('the shrinker stops at its budget of runs, the clock aside', (t) => {
  const start = [5, 9, 1, 3, 8, 8, 2, 7, 4];
  let runs = 0;
  const counted = (values: readonly number[]): ShrinkRun => {
    runs++;
    return toy(values);
  };
  const r = shrinkTape(toy(start), counted, { budgetRuns: 4, capMs: 1e9, now: clock() });
  t.is(runs, 4);
  t.is(r.runs, 4);
  t.false(r.timedOut);
  t.is(toy(r.values).invariant, 'X');
});

test('a shrunk Crucible failure replays the same invariant in fewer steps', (t) => {
  const bugs = new Set(['crucible/disable-one-client']);
  const run = (values: readonly number[]): ShrinkRun => {
    const o = runSimulation(crucibleTakeover.spec(bugs), new TapeReplay(values, null).recorder);
    return { invariant: o.violation?.invariant ?? null, values: o.choices.values, steps: o.steps };
  };
  const first = runSimulation(crucibleTakeover.spec(bugs), seededChoices('1'));
  t.is(first.violation?.invariant, 'C-I5');
  const r = shrinkTape({ invariant: 'C-I5', values: first.choices.values, steps: first.steps }, run, { budgetRuns: 2000, capMs: 60_000, now: () => performance.now() });
  t.is(run(r.values).invariant, 'C-I5');
  t.true(r.steps < first.steps, `${first.steps} -> ${r.steps}`);
});

test('the shrinker lowers a value by binary search, not one unit a round', (t) => {
  // Fails while the first value is at least 137: the smallest such tape is [137].
  let runs = 0;
  const threshold = (values: readonly number[]): ShrinkRun => {
    runs++;
    return { invariant: (values[0] ?? 0) >= 137 ? 'X' : null, values: values.slice(0, 1), steps: 1 };
  };
  const r = shrinkTape(threshold([900]), threshold, { budgetRuns: 1e9, capMs: 1e9, now: clock() });
  t.deepEqual(r.values, [137]);
  t.true(runs < 40, `${runs} runs`);
});

test('the shrinker raises a value to its largest when that fails in fewer steps (a think time that moves the noise past the failure)', (t) => {
  // Fails always; the larger the first value, the sooner (100 options).
  const sooner = (values: readonly number[]): ShrinkRun => ({ invariant: 'X', values: values.slice(0, 1), bounds: [100], steps: 100 - (values[0] ?? 0) });
  const r = shrinkTape(sooner([5]), sooner, { budgetRuns: 1e9, capMs: 1e9, now: clock() });
  t.deepEqual(r.values, [99]);
  t.is(r.steps, 1);
});
