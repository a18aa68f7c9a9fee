// The tape file: everything needed to replay one run exactly, and to tell when a replay no longer
// lines up with the code (labels). Format (version 1):
// { "stairwell": 1, "scenario": "...", "bugs": [...], "strategy": "random", "seed": 7,
//   "steps": 412, "fingerprint": "...", "violation": {...} | null,
//   "choices": [["sched.next", 3, 1], ...] }   // [label, n, value] per choice, in order

import { readFileSync } from 'node:fs';
import type { Violation } from '../sim/runner.ts';
import type { RunOutcome } from '../sim/runner.ts';
import { usage } from './exit.ts';
import { outputs } from './outputs.ts';

export interface TapeFile {
  readonly stairwell: 1;
  readonly scenario: string;
  readonly bugs: readonly string[];
  readonly strategy: string;
  readonly seed: number;
  readonly steps: number;
  readonly fingerprint: string;
  readonly violation: Violation | null;
  readonly choices: readonly (readonly [string, number, number])[];
}

export function tapeOf(outcome: RunOutcome, meta: { scenario: string; bugs: readonly string[]; strategy: string; seed: number }): TapeFile {
  const { labels, bounds, values } = outcome.choices;
  return {
    stairwell: 1,
    ...meta,
    steps: outcome.steps,
    fingerprint: outcome.fingerprint,
    violation: outcome.violation,
    choices: values.map((v, i) => [labels[i]!, bounds[i]!, v] as const),
  };
}

/** One choice per line, so a tape diffs well under version control. */
export function tapeText(tape: TapeFile): string {
  const { choices, ...head } = tape;
  const lines = choices.map((c) => `    ${JSON.stringify(c)}`).join(',\n');
  return JSON.stringify(head, null, 2).replace(/\n}$/, `,\n  "choices": [\n${lines}\n  ]\n}\n`);
}

/** Write a tape; if it cannot be written there it is kept elsewhere (cli/outputs.ts). Returns where it went. */
export function writeTape(path: string, tape: TapeFile, what = 'the tape'): string {
  return outputs.write(path, tapeText(tape), what);
}

export function readTape(path: string): TapeFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    usage(`cannot read tape ${path}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    usage(`tape ${path} is not JSON`);
  }
  const bad = (what: string): never => usage(`tape ${path} is malformed: ${what}`);
  if (typeof data !== 'object' || data === null) bad('not an object');
  const t = data as Record<string, unknown>;
  if (t.stairwell !== 1) bad('not a stairwell tape (version 1)');
  if (typeof t.scenario !== 'string') bad('no scenario');
  if (!Array.isArray(t.bugs) || !t.bugs.every((b) => typeof b === 'string')) bad('bugs must be a list of ids');
  if (typeof t.seed !== 'number' || !Number.isSafeInteger(t.seed) || t.seed < 0) bad('no seed');
  if (!Array.isArray(t.choices)) bad('no choices');
  for (const [i, c] of (t.choices as unknown[]).entries()) {
    const ok =
      Array.isArray(c) &&
      c.length === 3 &&
      typeof c[0] === 'string' &&
      Number.isSafeInteger(c[1]) &&
      Number.isSafeInteger(c[2]) &&
      (c[2] as number) >= 0 &&
      (c[2] as number) < (c[1] as number);
    if (!ok) bad(`choice ${i} is not [label, n, value] with 0 <= value < n`);
  }
  return {
    stairwell: 1,
    scenario: t.scenario as string,
    bugs: t.bugs as string[],
    strategy: typeof t.strategy === 'string' ? t.strategy : 'random',
    seed: t.seed as number,
    steps: typeof t.steps === 'number' ? t.steps : 0,
    fingerprint: typeof t.fingerprint === 'string' ? t.fingerprint : '',
    violation: (t.violation ?? null) as Violation | null,
    choices: t.choices as [string, number, number][],
  };
}
