import test from 'ava';
import { formatSeconds, ProgressLine } from '../../cli/progress.ts';
import { shrinkRun } from '../../api/shrink-run.ts';
import { findScenario } from '../../scenarios/index.ts';
import type { ShrinkProgress } from '../../sim/shrink.ts';

/** A stream that records what was written, as a terminal or not. */
function fakeStream(tty: boolean, columns = 40): NodeJS.WriteStream & { text: string } {
  const s = { isTTY: tty, columns, text: '', write: (chunk: string) => ((s.text += chunk), true) };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

test('on a terminal: one line, cleared to its end each time (no stale characters), cut to the width', (t) => {
  const stream = fakeStream(true, 30);
  const line = new ProgressLine({ quiet: false, stream });
  line.update('instance-lifecycle: 327 seeds/s');
  line.clear();
  line.update('short');
  // 29 columns shown of 30 (the last left free so the cursor never wraps), the cut marked.
  t.is(stream.text, '\r\x1b[Kinstance-lifecycle: 327 seed…\r\x1b[K\r\x1b[Kshort');
  t.false(line.due(), 'redrawn at most ten times a second');
});

test('off a terminal: nothing at first, then a plain line when the interval has passed, only if it changed', (t) => {
  const stream = fakeStream(false);
  const line = new ProgressLine({ quiet: false, stream, plainEveryMs: 0 });
  line.update('a');
  line.update('a');
  line.update('b');
  t.is(stream.text, 'a\nb\n');
  const slow = fakeStream(false);
  new ProgressLine({ quiet: false, stream: slow }).update('not yet');
  t.is(slow.text, '', 'a short command prints no progress at all');
});

test('quiet: nothing, ever', (t) => {
  const stream = fakeStream(true);
  const line = new ProgressLine({ quiet: true, stream });
  line.update('x');
  line.clear();
  t.is(stream.text, '');
  t.false(line.due());
});

test('durations read as a person says them', (t) => {
  t.is(formatSeconds(42.4), '42s');
  t.is(formatSeconds(185), '3m05s');
  t.is(formatSeconds(3720), '1h02m');
  t.is(formatSeconds(90_000), '1d01h');
  t.is(formatSeconds(Infinity), '?');
});

test('shrink progress is monotone: the best run so far, across all three shrinks', (t) => {
  const seen: ShrinkProgress[] = [];
  const { result } = shrinkRun({ scenario: findScenario('crucible-takeover')!, bugs: ['crucible/disable-one-client'], strategy: 'random', seed: 1, budgetRuns: 300, capMs: 60_000, progress: (s) => seen.push(s) });
  t.truthy(result);
  t.true(seen.length > 3);
  for (let i = 1; i < seen.length; i++) {
    t.true(seen[i]!.steps <= seen[i - 1]!.steps, `steps went up at report ${i}`);
    t.true(seen[i]!.runs >= seen[i - 1]!.runs, `runs went down at report ${i}`);
  }
  t.is(seen.at(-1)!.steps, result!.steps);
});
