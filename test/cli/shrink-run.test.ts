import test from 'ava';
import { shrinkRun } from '../../api/shrink-run.ts';
import { crucibleTakeover } from '../../scenarios/crucible-takeover.ts';
import { decisionCount } from '../../sim/choice.ts';

test('shrinking with candidates aligned on labels cuts a takeover down to the default schedule but one decision', (t) => {
  // Converges in well under a second, so the budget only guards against a hang.
  const { first, result, final } = shrinkRun({ scenario: crucibleTakeover, bugs: ['crucible/disable-one-client'], strategy: 'random', seed: 1, budgetRuns: 2000, capMs: 120_000 });
  t.false(result!.timedOut);
  t.is(final!.violation?.invariant, 'C-I5');
  t.true(final!.steps <= 60 && final!.steps < first.steps, `${first.steps} -> ${final!.steps} steps`);
  t.true(decisionCount(final!.choices.values) <= 2, `decisions left: ${decisionCount(final!.choices.values)}`);
  // The shrunk tape is the choices its run consumed: replayed by position, it is that run.
  t.deepEqual(final!.choices.values.slice(0, result!.values.length), [...result!.values]);
  t.true(final!.choices.values.slice(result!.values.length).every((v) => v === 0));
});

test('the same input shrinks to the same tape whatever the wall-clock cap, when neither is reached (the budget counts runs)', (t) => {
  // Seed 57 is where the museum finds this bug.
  const request = { scenario: crucibleTakeover, bugs: ['crucible/accept-equal-generation'], strategy: 'random' as const, seed: 57, budgetRuns: 600 };
  const a = shrinkRun({ ...request, capMs: 120_000 });
  const b = shrinkRun({ ...request, capMs: 600_000 });
  t.not(a.result, null, 'seed 57 fails under the switch');
  t.false(a.result!.timedOut);
  t.false(b.result!.timedOut);
  t.is(a.result!.runs, b.result!.runs);
  t.deepEqual(a.result!.values, b.result!.values);
  t.is(a.final!.fingerprint, b.final!.fingerprint);
});

test('shrinking by decisions leaves far fewer decisions than the run had', (t) => {
  const { first, final } = shrinkRun({ scenario: crucibleTakeover, bugs: ['crucible/accept-equal-generation'], strategy: 'random', seed: 57, budgetRuns: 1500, capMs: 120_000 });
  if (final === null) return t.fail('seed 57 fails under the switch');
  t.is(final.violation?.invariant, 'C-I1');
  const before = decisionCount(first.choices.values);
  const after = decisionCount(final.choices.values);
  t.true(after * 4 <= before, `${before} -> ${after} decisions`);
});
