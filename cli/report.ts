// How results read: one-line verdicts, the violation, its story or the events that led to it, the JSON shapes.

import type { RunOutcome, Violation } from '../sim/runner.ts';
import { decisionsByRecord, mentions, storyLine, storyOf, textOf } from '../sim/story.ts';
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

/** What `run`, `replay` and `shrink` print of a run's events (docs/how-it-works.md, "Reading a story"). */
export interface EventView {
  /** Every event instead of the story. */
  readonly all: boolean;
  /** Only the last N events of the run (implies all). */
  readonly last: number | null;
  /** Only events on, from or to these nodes. */
  readonly nodes: readonly string[];
  /** Only events whose payload or text names these ids. */
  readonly entities: readonly string[];
}

/**
 * The events of a traced run as the view asks: the story (the default, folded), or every event
 * or the last N, each line with the decisions that shaped it; then filtered by node and entity.
 */
export function eventLines(outcome: RunOutcome, view: EventView): string[] {
  const records = outcome.records ?? [];
  const filtered = view.nodes.length > 0 || view.entities.length > 0;
  const keep = (i: number): boolean => {
    const r = records[i]!;
    if (view.nodes.length > 0 && !view.nodes.some((n) => r.node === n || r.from === n || r.to === n)) return false;
    return view.entities.every((e) => mentions(textOf(r), e));
  };
  if (!view.all && view.last === null) {
    const story = storyOf(outcome);
    if (story !== null && !filtered) return [...story.lines];
    if (story !== null) {
      const decided = decisionsByRecord(records, outcome.choices, true);
      return story.told.filter(keep).map((i) => storyLine(records, i, decided));
    }
  }
  const decided = decisionsByRecord(records, outcome.choices, false);
  const setup = decided.get(-1);
  const all = records.map((_, i) => i).filter(keep);
  const shown = view.last === null ? all : all.slice(-view.last);
  const lines = shown.map((i) => {
    const mine = decided.get(i);
    return mine === undefined ? describeRecord(records[i]!) : `${describeRecord(records[i]!)}   <- ${mine.join(' ')}`;
  });
  return setup === undefined || shown[0] !== 0 ? lines : [`setup: ${setup.join(' ')}`, ...lines];
}

/** The events the view asks for under a heading that says which they are. */
export function eventBlock(outcome: RunOutcome, view: EventView): string[] {
  const lines = eventLines(outcome, view);
  const which = view.all ? 'every event' : view.last !== null ? `the last ${view.last} events` : 'the story (--all for every event)';
  const filters = [...view.nodes.map((n) => `node ${n}`), ...view.entities.map((e) => `entity ${e}`)];
  return [`  ${which}${filters.length === 0 ? '' : `, only ${filters.join(', ')}`}: ${lines.length} lines`, ...lines.map((l) => `    ${l}`)];
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
