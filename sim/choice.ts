// The one source of nondeterminism. Every decision a run makes (which ready event goes first, a
// message's delay, whether it is lost, which fault the nemesis injects, what the user asks for)
// is `choose(label, n)`: an integer in [0, n). A seed fills the choices from seedrandom's alea;
// a tape replays them. Whatever fills them, the choices actually used are recorded, labels
// included, so every run leaves a tape that reproduces it.
//
// Conventions that make tapes shrinkable (Hypothesis's choice sequences, as its shrinker relies on them):
// - 0 is always the simplest value: no fault, shortest delay, first ready event.
// - A forced choice (n = 1) returns 0 and is not recorded.
// - Replaying past the end of a tape gives 0, so a shortened tape is still a valid run.

import seedrandom from 'seedrandom';
import { fail } from './assert.ts';

export interface ChoiceSource {
  choose(label: string, n: number): number;
}

/** Where a replayed tape stopped lining up with the code that replays it. */
export interface Divergence {
  readonly index: number;
  readonly expected: string;
  readonly actual: string;
}

/** Choices limit per run: a run that draws more is out of control, not merely long. */
export const MAX_CHOICES = 5_000_000;

export class ChoiceRecorder implements ChoiceSource {
  readonly labels: string[] = [];
  readonly bounds: number[] = [];
  readonly values: number[] = [];
  /** Folded into the run's fingerprint by the trace, so a different draw is a different run. */
  lastValue = 0;
  /** The step each choice was drawn for, when a traced run asks (trackSteps). */
  stepOf: number[] | null = null;
  /** The trace record each choice shaped (-1: the world's setup), when a traced run asks. */
  recordOf: number[] | null = null;
  #stepClock: (() => number) | null = null;
  #recordClock: (() => number) | null = null;
  readonly #fill: (label: string, n: number, index: number) => number;

  constructor(fill: (label: string, n: number, index: number) => number) {
    this.#fill = fill;
  }

  choose(label: string, n: number): number {
    if (!Number.isInteger(n) || n < 1) fail(`choose(${label}, ${n}): n must be a positive integer`);
    if (n === 1) return 0;
    const index = this.values.length;
    if (index >= MAX_CHOICES) fail(`more than ${MAX_CHOICES} choices in one run`);
    const value = this.#fill(label, n, index);
    if (!Number.isInteger(value) || value < 0 || value >= n) fail(`choice ${label} out of range: ${value}/${n}`);
    this.labels.push(label);
    this.bounds.push(n);
    this.values.push(value);
    this.lastValue = value;
    if (this.stepOf !== null) {
      this.stepOf.push(this.#stepClock!());
      this.recordOf!.push(this.#recordClock!());
    }
    return value;
  }

  /** Record, for every choice from now on, the step and the trace record the clocks say it belongs to. */
  trackSteps(stepClock: () => number, recordClock: () => number): void {
    this.stepOf = [];
    this.recordOf = [];
    this.#stepClock = stepClock;
    this.#recordClock = recordClock;
  }
}

/** A decision: a choice that departs from the default (0: no fault, shortest delay, oldest first). */
export function decisionCount(values: readonly number[]): number {
  let n = 0;
  for (const v of values) if (v !== 0) n++;
  return n;
}

/** Choices drawn from a seed: alea, always seeded with a string (seedrandom gives a number and its string different streams for some generators). */
export function seededChoices(seed: string): ChoiceRecorder {
  const prng = seedrandom.alea(seed);
  return new ChoiceRecorder((_label, n) => Math.floor(prng() * n));
}

/**
 * Choices replayed from a tape. A value too large for the current choice space is clamped; past
 * the end, 0. The first label that does not match is kept as `divergence`, so a replay after the
 * code changed says where it stopped reproducing instead of silently running something else.
 */
export class TapeReplay {
  divergence: Divergence | null = null;
  readonly recorder: ChoiceRecorder;

  constructor(values: readonly number[], labels: readonly string[] | null) {
    this.recorder = new ChoiceRecorder((label, n, index) => {
      if (index >= values.length) return 0;
      if (labels !== null && this.divergence === null && labels[index] !== label) {
        this.divergence = { index, expected: labels[index] ?? '(none)', actual: label };
      }
      return Math.min(values[index]!, n - 1);
    });
  }
}

/** How far ahead an aligned replay looks for the label the code asks for. */
const ALIGN_WINDOW = 64;

/**
 * Best-effort replay of a tape that no longer lines up with the code: each choice takes the
 * value of the next tape entry with the same label, looking at most ALIGN_WINDOW entries ahead
 * and skipping what it passes over; a label not found there gets 0 and consumes nothing. Code
 * that now draws an extra choice, or no longer draws one, thus costs one choice instead of
 * shifting every later value onto the wrong question.
 */
export function alignedReplay(values: readonly number[], labels: readonly string[]): ChoiceRecorder {
  let cursor = 0;
  return new ChoiceRecorder((label, n) => {
    const end = Math.min(labels.length, cursor + ALIGN_WINDOW);
    for (let j = cursor; j < end; j++) {
      if (labels[j] === label) {
        cursor = j + 1;
        return Math.min(values[j]!, n - 1);
      }
    }
    return 0;
  });
}

/** A yes/no choice that is true with probability perMille/1000; false (0) is the simplest. */
export function flip(source: ChoiceSource, label: string, perMille: number): boolean {
  if (perMille <= 0) return false;
  if (perMille >= 1000) return true;
  return source.choose(label, 1000) >= 1000 - perMille;
}

/** A value in [min, max], min being the simplest. */
export function between(source: ChoiceSource, label: string, min: number, max: number): number {
  if (max < min) fail(`between(${label}): max ${max} < min ${min}`);
  return min + source.choose(label, max - min + 1);
}

/**
 * Decisions replayed by label and occurrence: the k-th draw of a label takes the value listed for
 * it (clamped to the choice's range), every draw not listed takes 0. Dropping one decision thus
 * leaves every other on its own question (sim/shrink-decisions.ts).
 */
export function keyedReplay(decisions: readonly { readonly label: string; readonly occurrence: number; readonly value: number }[]): ChoiceRecorder {
  const byLabel = new Map<string, Map<number, number>>();
  for (const d of decisions) {
    if (!byLabel.has(d.label)) byLabel.set(d.label, new Map());
    byLabel.get(d.label)!.set(d.occurrence, d.value);
  }
  const seen = new Map<string, number>();
  return new ChoiceRecorder((label, n) => {
    const occurrence = seen.get(label) ?? 0;
    seen.set(label, occurrence + 1);
    return Math.min(byLabel.get(label)?.get(occurrence) ?? 0, n - 1);
  });
}
