import test from 'ava';
import { between, flip, seededChoices, TapeReplay } from '../../sim/choice.ts';

const draw = (seed: string, count: number): number[] => {
  const c = seededChoices(seed);
  return Array.from({ length: count }, () => c.choose('x', 1000));
};

test('the same seed gives the same choices, another seed others', (t) => {
  t.deepEqual(draw('7', 50), draw('7', 50));
  t.notDeepEqual(draw('7', 50), draw('8', 50));
});

test('a forced choice is not recorded; labels and bounds are', (t) => {
  const c = seededChoices('1');
  t.is(c.choose('only', 1), 0);
  c.choose('pick', 3);
  t.deepEqual(c.labels, ['pick']);
  t.deepEqual(c.bounds, [3]);
  t.is(c.values.length, 1);
});

test('a tape replays its values, then gives the simplest value past its end', (t) => {
  const replay = new TapeReplay([2, 1], ['a', 'b']);
  t.is(replay.recorder.choose('a', 3), 2);
  t.is(replay.recorder.choose('b', 3), 1);
  t.is(replay.recorder.choose('c', 3), 0);
  t.is(replay.divergence, null);
});

test('a replay names the first label that no longer lines up, and clamps values', (t) => {
  const replay = new TapeReplay([5, 1], ['a', 'b']);
  t.is(replay.recorder.choose('a', 3), 2, 'clamped into the smaller choice space');
  replay.recorder.choose('renamed', 2);
  t.deepEqual(replay.divergence, { index: 1, expected: 'b', actual: 'renamed' });
});

test('flip and between put the simplest answer at 0', (t) => {
  const zero = new TapeReplay([], null).recorder;
  t.false(flip(zero, 'f', 999));
  t.is(between(zero, 'b', 4, 9), 4);
  t.false(flip(seededChoices('x'), 'never', 0));
  t.true(flip(seededChoices('x'), 'always', 1000));
});
