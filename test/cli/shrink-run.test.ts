import test from 'ava';
import { shrinkRun } from '../../cli/shrink-run.ts';
import { crucibleTakeover } from '../../scenarios/crucible-takeover.ts';
import { decisionCount } from '../../sim/choice.ts';

test('shrinking with candidates aligned on labels cuts a takeover down to the default schedule but one decision', (t) => {
  // Converges in well under a second, so the budget only guards against a hang.
  const { first, result, final } = shrinkRun({ scenario: crucibleTakeover, bugs: ['crucible/disable-one-client'], strategy: 'random', seed: 1, budgetMs: 60_000 });
  t.false(result!.timedOut);
  t.is(final!.violation?.invariant, 'C-I5');
  t.true(final!.steps <= 60 && final!.steps < first.steps, `${first.steps} -> ${final!.steps} steps`);
  t.true(decisionCount(final!.choices.values) <= 2, `decisions left: ${decisionCount(final!.choices.values)}`);
  // The shrunk tape is the choices its run consumed: replayed by position, it is that run.
  t.deepEqual(final!.choices.values.slice(0, result!.values.length), [...result!.values]);
  t.true(final!.choices.values.slice(result!.values.length).every((v) => v === 0));
});
