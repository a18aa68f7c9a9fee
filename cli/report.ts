// How results read: one-line verdicts, the violation, the steps that led to it, the JSON shapes.

import { writeFileSync } from 'node:fs';
import type { RunOutcome, Violation } from '../sim/runner.ts';
import { describeRecord, type TraceRecord } from '../sim/trace.ts';

export function verdictLine(label: string, outcome: RunOutcome): string {
  const v = outcome.violation;
  const stats = `${outcome.steps} steps, ${(outcome.timeMs / 1000).toFixed(1)}s virtual, fingerprint ${outcome.fingerprint}`;
  return v === null ? `${label}: ok (${stats})` : `${label}: VIOLATION ${v.invariant} at step ${v.step} (${v.timeMs}ms, ${v.phase}; ${stats})`;
}

export function violationJson(v: Violation | null): object | null {
  return v === null ? null : { invariant: v.invariant, step: v.step, timeMs: v.timeMs, phase: v.phase, message: v.message };
}

/** The last `count` events before the violation, one readable line each. */
export function lastSteps(records: readonly TraceRecord[], count: number): string[] {
  return records.slice(-count).map(describeRecord);
}

export function writeTrace(path: string, records: readonly TraceRecord[]): void {
  writeFileSync(path, records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : ''));
}

/** `--json` with a .json path writes there; bare `--json` prints to stdout. */
export function emitJson(target: string, value: unknown): void {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (target === '') process.stdout.write(text);
  else writeFileSync(target, text);
}
