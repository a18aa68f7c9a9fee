// The tape file: everything needed to replay one run exactly, and to tell when a replay no longer
// lines up with the code (labels). Format (version 1):
// { "stairwell": 1, "scenario": "...", "file": "/abs/scenario.ts" (a scenario file's only),
//   "bugs": [...], "strategy": "random", "seed": 7, "config": {...} (sim/run-config.ts),
//   "steps": 412, "fingerprint": "...", "violation": {...} | null,
//   "choices": [["sched.next", 3, 1], ...] }   // [label, n, value] per choice, in order
// A tape without `config` (written before the configuration was recorded) replays under its
// scenario's defaults.

import { readFileSync } from 'node:fs';
import { configProblems, type RunConfig } from '../sim/run-config.ts';
import type { RunOutcome, Violation } from '../sim/runner.ts';
import { InputError } from './input-error.ts';

export interface TapeFile {
  readonly stairwell: 1;
  readonly scenario: string;
  /** The scenario file it came from (absolute), for a scenario that is not built in. */
  readonly file?: string;
  readonly bugs: readonly string[];
  readonly strategy: string;
  readonly seed: number;
  /** The run configuration it ran under; absent in tapes from before it was recorded. */
  readonly config?: RunConfig;
  readonly steps: number;
  readonly fingerprint: string;
  readonly violation: Violation | null;
  readonly choices: readonly (readonly [string, number, number])[];
}

export interface TapeMeta {
  readonly scenario: { readonly name: string; readonly file: string | null };
  readonly bugs: readonly string[];
  readonly strategy: string;
  readonly seed: number;
}

/** The tape of a run: its choices, and what it ran (scenario, switches, strategy, seed, configuration). */
export function tapeOf(outcome: RunOutcome, meta: TapeMeta): TapeFile {
  const { labels, bounds, values } = outcome.choices;
  return {
    stairwell: 1,
    scenario: meta.scenario.name,
    ...(meta.scenario.file === null ? {} : { file: meta.scenario.file }),
    bugs: meta.bugs,
    strategy: meta.strategy,
    seed: meta.seed,
    config: outcome.sim.config,
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

/** Read a tape file; anything that is not a tape is an InputError naming what is wrong. */
export function readTape(path: string): TapeFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError(`cannot read tape ${path}`);
  }
  return parseTape(text, `tape ${path}`);
}

/** A tape from its text; `where` names it in errors. */
export function parseTape(text: string, where = 'the tape'): TapeFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new InputError(`${where} is not JSON`);
  }
  const bad = (what: string): never => {
    throw new InputError(`${where} is malformed: ${what}`);
  };
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
  if (t.file !== undefined && typeof t.file !== 'string') bad('file must be a path');
  if (t.config !== undefined) {
    const problems = configProblems(t.config);
    if (problems.length > 0) bad(`config: ${problems.join('; ')}`);
  }
  return {
    stairwell: 1,
    scenario: t.scenario as string,
    ...(typeof t.file === 'string' ? { file: t.file } : {}),
    bugs: t.bugs as string[],
    strategy: typeof t.strategy === 'string' ? t.strategy : 'random',
    seed: t.seed as number,
    ...(t.config === undefined ? {} : { config: t.config as RunConfig }),
    steps: typeof t.steps === 'number' ? t.steps : 0,
    fingerprint: typeof t.fingerprint === 'string' ? t.fingerprint : '',
    violation: (t.violation ?? null) as Violation | null,
    choices: t.choices as [string, number, number][],
  };
}
