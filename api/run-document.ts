// A run as the viewer shows it (viewer/document.ts): its events with their causes (a delivery
// points at its send), the decisions that shaped them, its story marked, its faults as spans,
// and the state the oracle could see after each step: the stepped node's durable state and what
// it holds in memory (Process.inspect), the database included, deduplicated, since most steps
// change one node and leave the rest as they were.

import type { InvariantInfo } from './registry.ts';
import type { RunOutcome } from '../sim/runner.ts';
import type { Simulator, StepRecord } from '../sim/simulator.ts';
import { decisionsByRecord, tellStory } from '../sim/story.ts';
import { describeRecord, type TraceRecord } from '../sim/trace.ts';
import type { RunDocument, ViewEvent, ViewFault } from '../viewer/document.ts';
import { execute, type RunRequest } from './execute.ts';

/** A row's text is cut here: the document of a 10,000-event run must stay a file one can attach. */
const LINE_CHARS_MAX = 400;

/** The state snapshots of one run, taken after each step, deduplicated by their text. */
export class StateLog {
  readonly states: unknown[] = [];
  /** Per step (1-based): node -> index into `states`. */
  readonly byStep = new Map<number, Record<string, number>>();
  readonly #index = new Map<string, number>();
  readonly #last = new Map<string, number>();

  /** After a step: the node that ran it; after an action (a fault, a script), every node. */
  take(sim: Simulator, step: StepRecord): void {
    const nodes = step.kind === 'action' || step.index === 1 ? sim.nodeIds : [step.node];
    const changed: Record<string, number> = {};
    for (const node of nodes) {
      const at = this.#intern(snapshotOf(sim, node));
      if (this.#last.get(node) !== at) changed[node] = at;
      this.#last.set(node, at);
    }
    if (Object.keys(changed).length > 0) this.byStep.set(step.index, changed);
  }

  #intern(text: string): number {
    let at = this.#index.get(text);
    if (at === undefined) {
      at = this.states.length;
      this.states.push(JSON.parse(text));
      this.#index.set(text, at);
    }
    return at;
  }
}

/**
 * A node's state as JSON text: whether it is up, its durable state, and what it holds in memory
 * (its process's `inspect()`, else the process's own data fields: a closure node shows the
 * state objects it returns, such as the sled-agent's VMM table).
 */
function snapshotOf(sim: Simulator, node: string): string {
  const host = sim.node(node);
  const process = host.up ? host.process : null;
  const memory = process === null ? undefined : process.inspect !== undefined ? process.inspect() : process;
  return JSON.stringify(toPlain({ up: host.up, dead: host.dead, incarnation: host.incarnation, durable: host.durable, ...(memory === undefined ? {} : { memory }) }, [], 0));
}

/** Nesting kept in a snapshot; deeper values read "…". */
const DEPTH_MAX = 16;

/**
 * Plain JSON data of any value: Maps as objects, Sets as arrays, class instances by their own
 * fields, functions left out, a reference back to an enclosing object as "[cycle]".
 */
function toPlain(value: unknown, ancestors: object[], depth: number): unknown {
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') return String(value);
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.includes(value)) return '[cycle]';
  if (depth >= DEPTH_MAX) return '…';
  const inner = [...ancestors, value];
  if (Array.isArray(value) || value instanceof Set) return [...value].map((v) => toPlain(v, inner, depth + 1) ?? null);
  const entries: [string, unknown][] = value instanceof Map ? [...value].map(([k, v]) => [String(k), v]) : Object.entries(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const plain = toPlain(v, inner, depth + 1);
    if (plain !== undefined) out[k] = plain;
  }
  return out;
}

/** What the document says of an invariant a violation names: a registry's `invariant`. */
export type DescribeInvariant = (id: string) => InvariantInfo | undefined;

/** Run a request traced, taking the state after every step, and make its document. */
export function runDocument(req: RunRequest, title: string, describe: DescribeInvariant): RunDocument {
  const states = new StateLog();
  const outcome = execute({ ...req, trace: true, onStep: (sim, step) => states.take(sim, step) }).outcome;
  return documentOf(outcome, title, req.scenario.name, req.bugs, req.seed, states, describe);
}

export function documentOf(outcome: RunOutcome, title: string, scenario: string, bugs: readonly string[], seed: number, states: StateLog | null, describe: DescribeInvariant): RunDocument {
  const records = outcome.records ?? [];
  const v = outcome.violation;
  const story = v === null ? null : withTheirLogs(records, tellStory(records, outcome.choices, v, outcome.sim.nodeIds).told);
  const decided = decisionsByRecord(records, outcome.choices, false);
  const events = records.map((r, i) => eventOf(records, i, decided.get(i), story === null || story.has(i), states?.byStep.get(r.step) ?? null));
  return {
    title,
    scenario,
    bugs,
    seed,
    nodes: outcome.sim.nodeIds,
    events,
    faults: faultsOf(outcome, records),
    violation: v === null ? null : { invariant: v.invariant, text: describe(v.invariant)?.text ?? '', message: v.message, step: v.step, timeMs: v.timeMs, phase: v.phase },
    states: states?.states ?? [],
    steps: outcome.steps,
    fingerprint: outcome.fingerprint,
  };
}

const STEP_EVENTS: ReadonlySet<string> = new Set(['deliver', 'timer', 'resume', 'action']);

/** The story's events and what their nodes logged while handling them (the story prints those beside them). */
function withTheirLogs(records: readonly TraceRecord[], told: readonly number[]): Set<number> {
  const story = new Set(told);
  for (const i of told) {
    if (!STEP_EVENTS.has(records[i]!.event)) continue;
    for (let j = i + 1; j < records.length && records[j]!.step === records[i]!.step && !STEP_EVENTS.has(records[j]!.event); j++) {
      if (records[j]!.event === 'log') story.add(j);
    }
  }
  return story;
}

function eventOf(records: readonly TraceRecord[], i: number, decisions: readonly string[] | undefined, story: boolean, state: Record<string, number> | null): ViewEvent {
  const r = records[i]!;
  const full = describeRecord(r, LINE_CHARS_MAX);
  const sent = r.cause === undefined ? undefined : records[r.cause];
  const sendIndex = (r.event === 'deliver' || r.event === 'lost') && sent?.event === 'send' ? r.cause : undefined;
  const peer = r.event === 'send' ? r.to : r.event === 'deliver' || r.event === 'lost' ? r.from : undefined;
  // A step's state belongs to its own event (its first record of that kind), not to its sends and logs.
  const own = state !== null && STEP_EVENTS.has(r.event) && (i === 0 || records[i - 1]!.step !== r.step || !STEP_EVENTS.has(records[i - 1]!.event));
  return {
    i,
    step: r.step,
    timeMs: r.timeMs,
    kind: r.event === 'boot' ? 'log' : r.event,
    node: r.node,
    ...(peer === undefined ? {} : { peer }),
    ...(sendIndex === undefined ? {} : { sendIndex }),
    line: full,
    ...(decisions === undefined ? {} : { decisions }),
    story,
    ...(own ? { state: state! } : {}),
  };
}

/**
 * The run's faults as spans: each fault record in the trace is the next entry of the fault
 * log (both are written together); a span ends at the first event at or after its end time.
 */
function faultsOf(outcome: RunOutcome, records: readonly TraceRecord[]): ViewFault[] {
  const starts = records.flatMap((r, i) => (r.event === 'fault' || r.event === 'crash' ? [i] : []));
  return outcome.sim.faultLog.map((f, k) => {
    const startIndex = starts[k] ?? 0;
    let endIndex: number | null = null;
    if (f.endMs !== null) {
      const end = records.findIndex((r, i) => i > startIndex && r.timeMs >= f.endMs! && (f.kind !== 'crash' || (r.event === 'restart' && r.node === f.nodes[0])));
      endIndex = end < 0 ? null : end;
    }
    return { kind: f.kind, nodes: f.nodes, description: f.description, startMs: f.startMs, endMs: f.endMs, startIndex, endIndex };
  });
}

/** A document of a trace file alone (`--trace` output): its events, lanes and fault spans; no state, no verdict. */
export function traceDocument(records: readonly TraceRecord[], title: string): RunDocument {
  const nodes = [...new Set(records.flatMap((r) => [r.node, r.from ?? '', r.to ?? '']).filter((n) => n !== '' && n !== 'outside'))];
  const events = records.map((_, i) => eventOf(records, i, undefined, true, null));
  const faults: ViewFault[] = records.flatMap((r, i) => {
    if (r.event !== 'fault' && r.event !== 'crash') return [];
    const description = r.event === 'crash' ? `crash ${r.node}` : (r.text ?? '');
    const end = records.findIndex((e, k) => k > i && ((r.event === 'crash' && e.event === 'restart' && e.node === r.node) || (e.event === 'heal' && (e.text === r.text || e.text === 'all faults'))));
    return [{ kind: r.event === 'crash' ? 'crash' : 'fault', nodes: r.event === 'crash' ? [r.node] : nodes.filter((n) => (r.text ?? '').includes(n)), description, startMs: r.timeMs, endMs: end < 0 ? null : records[end]!.timeMs, startIndex: i, endIndex: end < 0 ? null : end }];
  });
  const last = records.at(-1);
  return { title, scenario: '', bugs: [], seed: 0, nodes, events, faults, violation: null, states: [], steps: last?.step ?? 0, fingerprint: '' };
}
