// How results read: one-line verdicts, the violation, the steps that led to it, the JSON shapes.

import type { ChoiceRecorder } from '../sim/choice.ts';
import type { RunOutcome, Violation } from '../sim/runner.ts';
import { describeRecord, type TraceRecord } from '../sim/trace.ts';
import { outputs } from './outputs.ts';

export function verdictLine(label: string, outcome: RunOutcome): string {
  const v = outcome.violation;
  const stats = `${outcome.steps} steps, ${(outcome.timeMs / 1000).toFixed(1)}s virtual, fingerprint ${outcome.fingerprint}`;
  return v === null ? `${label}: ok (${stats})` : `${label}: VIOLATION ${v.invariant} at step ${v.step} (${v.timeMs}ms, ${v.phase}; ${stats})`;
}

export function violationJson(v: Violation | null): object | null {
  return v === null ? null : { invariant: v.invariant, step: v.step, timeMs: v.timeMs, phase: v.phase, message: v.message };
}

/** The last `count` events before the violation, one readable line each. */
export function lastSteps(records: readonly TraceRecord[], count: number, choices: ChoiceRecorder | null = null): string[] {
  return stepList(records, choices).slice(-count);
}

const STEP_EVENTS: ReadonlySet<string> = new Set(['deliver', 'timer', 'resume', 'action']);

/**
 * A run as a person reads it: one line per event (faults marked FAULT, lost messages LOST), and
 * beside each event the decisions drawn for it, the choices that departed from the default
 * (`net.delayMs=7`: 7 ms more than the shortest delay; `sched.next=1`: the second ready event
 * went first). Decisions drawn while the world was set up come first.
 */
export function stepList(records: readonly TraceRecord[], choices: ChoiceRecorder | null): string[] {
  const decided = new Map<number, string[]>();
  const stepOf = choices?.stepOf ?? null;
  if (choices !== null && stepOf !== null) {
    choices.values.forEach((v, i) => {
      if (v === 0) return;
      const step = stepOf[i]!;
      if (!decided.has(step)) decided.set(step, []);
      decided.get(step)!.push(`${choices.labels[i]}=${v}`);
    });
  }
  const lines: string[] = [];
  const setup = decided.get(0);
  if (setup !== undefined) lines.push(`setup: ${setup.join(' ')}`);
  let annotated = 0;
  for (const r of records) {
    const line = describeRecord(r);
    const mine = STEP_EVENTS.has(r.event) && r.step > annotated ? decided.get(r.step) : undefined;
    if (STEP_EVENTS.has(r.event)) annotated = Math.max(annotated, r.step);
    lines.push(mine === undefined ? line : `${line}   <- ${mine.join(' ')}`);
  }
  return lines;
}

export function writeTrace(path: string, records: readonly TraceRecord[]): void {
  outputs.write(path, records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : ''), 'the trace');
}

/** `--json` with a .json path writes there; bare `--json` prints to stdout. */
export function emitJson(target: string, value: unknown, what = 'the JSON result'): void {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (target === '') process.stdout.write(text);
  else outputs.write(target, text, what);
}
