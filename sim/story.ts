// The story of a failing run: the few events a person needs to see why it failed, out of the
// hundreds or thousands it took. It is the causal slice of the violation (what could have
// influenced the step that broke the invariant: its happens-before cone, following each event's
// cause, a delivery's send, a timer's setter, a workflow's previous step, and each node's own
// order), pruned to the events that touch what the violation names (the ids in its message: a
// VMM, an instance, a saga, an upstairs), plus the faults on the nodes the story passes through,
// each line with the decisions that shaped it. A liveness failure has no one step to start from:
// its cone is the whole run, and the entities alone select.
// Repetition is folded (a poll answered the same way twenty times is one line, ×20), so that the
// story stays short; nothing is cut from a line's payload.
// The engine knows nothing of the protocols: entities are whatever ids the oracle's message
// names, and a node is an entity when the message names it.

import type { RunOutcome } from './runner.ts';
import { assert } from './assert.ts';
import type { ChoiceRecorder } from './choice.ts';
import { describeRecord, type TraceRecord } from './trace.ts';

export interface StoryViolation {
  readonly message: string;
  readonly step: number;
  readonly phase: 'workload' | 'liveness';
}

export interface Story {
  /** Indices into the run's records, in order: every event the story could tell (its slice). */
  readonly indices: readonly number[];
  /** Those of `indices` its lines tell, folded repeats included (what a viewer highlights). */
  readonly told: readonly number[];
  /** What the violation names: the ids the story follows. */
  readonly entities: readonly string[];
  /** The story as printed: one line per event or folded repetition (the last may say what was left out). */
  readonly lines: readonly string[];
  /** Lines the story left out to stay within its length (0: it is whole). */
  readonly leftOut: number;
}

/** The events a story shows itself; sends are told by their delivery (or their loss), logs beside their step's event. */
const TOLD: ReadonlySet<string> = new Set(['deliver', 'lost', 'timer', 'resume', 'action', 'fault', 'crash', 'restart', 'heal']);
/** A step's own event: what its sends, logs and timers hang from. */
const STEP: ReadonlySet<string> = new Set(['deliver', 'timer', 'resume', 'action']);
/** How far back the violation's chain of direct causes is followed. */
const CHAIN_MAX = 64;
const FAULTS: ReadonlySet<string> = new Set(['fault', 'crash', 'restart', 'heal']);
/** An id: a word with a dash or an @ in it (`vmm-7`, `upstairs-a`, `region-2-1@snapshot-3`). */
const ID = /[A-Za-z][\w.]*(?:[-@][\w.]+)+/g;

/** The ids a violation's message names that the run knows: node ids, or ids its events carry (`texts`). */
export function entitiesOf(message: string, nodes: readonly string[], texts: readonly string[]): string[] {
  const found = new Set<string>();
  const known = (id: string): boolean => nodes.includes(id) || (/\d/.test(id) && id.includes('-') && texts.some((t) => mentions(t, id)));
  for (const token of message.match(ID) ?? []) {
    const id = token.replace(/\.$/, '');
    // A compound id (`region-2-1@snapshot-3`) is followed as it is written; its parts only if
    // the run never writes it whole (the snapshot alone would bring in every listing of it).
    const ids = known(id) || !id.includes('@') ? [id] : id.split('@');
    for (const part of ids) if (known(part)) found.add(part);
  }
  return [...found];
}

/** Whether `text` contains `id` as a whole id (vmm-7 is not in vmm-71 nor in vmm-7-b). */
export function mentions(text: string, id: string): boolean {
  for (let at = text.indexOf(id); at >= 0; at = text.indexOf(id, at + 1)) {
    const before = at === 0 ? '' : text[at - 1]!;
    const after = text[at + id.length] ?? '';
    if (!/[\w-]/.test(before) && !/[\w-]/.test(after)) return true;
  }
  return false;
}

/** What an event says: its payload and its text, where the story looks for ids. */
export function textOf(r: TraceRecord): string {
  const payload = r.message === undefined ? '' : JSON.stringify(r.message) ?? '';
  return `${payload} ${r.text ?? ''}`;
}

/**
 * The records in the happens-before cone of the roots. One backward pass suffices: every link
 * (a cause, a node's previous event) points to an earlier record.
 */
export function cone(records: readonly TraceRecord[], roots: readonly number[]): boolean[] {
  const inCone = new Array<boolean>(records.length).fill(false);
  for (const r of roots) inCone[r] = true;
  const previousOnNode = new Map<string, number>();
  const previous = records.map((r, i) => {
    const p = r.node === '' ? -1 : (previousOnNode.get(r.node) ?? -1);
    if (r.node !== '') previousOnNode.set(r.node, i);
    return p;
  });
  for (let i = records.length - 1; i >= 0; i--) {
    if (!inCone[i]) continue;
    const cause = records[i]!.cause ?? -1;
    assert(cause < i && previous[i]! < i, 'a cause comes before its effect');
    if (cause >= 0) inCone[cause] = true;
    if (previous[i]! >= 0) inCone[previous[i]!] = true;
  }
  return inCone;
}

/**
 * The roots of a violation's cone: every record of its step, and the last step of each node the
 * violation names (an invariant over several nodes read the state each one's last step left,
 * whether or not that step happened before the violating one); for a liveness failure, everything.
 */
function rootsOf(records: readonly TraceRecord[], v: StoryViolation, namedNodes: ReadonlySet<string>): number[] {
  const all = records.map((_, i) => i);
  if (v.phase === 'liveness') return all;
  const own = all.filter((i) => records[i]!.step === v.step);
  if (own.length === 0) return all;
  const lastOf = new Map<string, number>();
  for (const i of all) {
    const r = records[i]!;
    if (r.step <= v.step && namedNodes.has(r.node) && STEP_EVENTS.has(r.event)) lastOf.set(r.node, i);
  }
  return [...own, ...lastOf.values()];
}

/** The events that are a node's own step (what changes its state). */
const STEP_EVENTS: ReadonlySet<string> = new Set(['deliver', 'timer', 'resume', 'boot', 'restart']);

/** The story of a run's violation, or null when the run passed or was not traced. */
export function storyOf(outcome: RunOutcome): Story | null {
  const v = outcome.violation;
  if (v === null || outcome.records === null) return null;
  return tellStory(outcome.records, outcome.choices, v, outcome.sim.nodeIds);
}

export function tellStory(records: readonly TraceRecord[], choices: ChoiceRecorder | null, v: StoryViolation, nodes: readonly string[], maxLines = 30): Story {
  const slice = new Slice(records, choices, v, nodes);
  const tiers = slice.rank();
  const indices = [...tiers.keys()].sort((a, b) => a - b);
  const weight = slice.weigher(indices);
  // Decisions drawn while the world was set up (a nemesis's first wake-up, a user's first think)
  // shaped what follows, and are the first line when there are any.
  const setup = slice.decided.get(-1);
  const setupEntry: StoryEntry[] = setup === undefined ? [] : [{ line: `setup: ${setup.join(' ')}`, tier: Tier.Cause, weight: 0, members: [] }];
  const entries = indices.map((i) => ({ line: storyLine(records, i, slice.decided), tier: tiers.get(i)!, weight: weight(i), members: [i] }));
  const lines = [...setupEntry, ...foldRepeats(entries, maxLines - setupEntry.length)];
  const told = withinBudget(lines, maxLines, slice.entities);
  return { indices, told: told.kept.flatMap((e) => e.members).sort((a, b) => a - b), entities: slice.entities, lines: told.lines, leftOut: lines.length - told.kept.length };
}

/** One violation's slice of a run: what it names, its cone, and how much each event in it tells. */
class Slice {
  readonly texts: readonly string[];
  readonly entities: readonly string[];
  readonly decided: ReadonlyMap<number, readonly string[]>;
  readonly #records: readonly TraceRecord[];
  readonly #violation: StoryViolation;
  readonly #inCone: readonly boolean[];
  /** The ids the violation names that are not nodes: when there are any, they select. */
  readonly #ids: readonly string[];
  readonly #named: ReadonlySet<string>;

  constructor(records: readonly TraceRecord[], choices: ChoiceRecorder | null, v: StoryViolation, nodes: readonly string[]) {
    this.#records = records;
    this.#violation = v;
    this.texts = records.map(textOf);
    this.entities = entitiesOf(v.message, nodes, this.texts);
    this.#ids = this.entities.filter((e) => !nodes.includes(e));
    this.#named = new Set(this.entities.filter((e) => nodes.includes(e)));
    this.#inCone = cone(records, rootsOf(records, v, this.#named));
    this.decided = decisionsByRecord(records, choices, true);
  }

  /** Whether event i names what the violation names (a message naming only nodes: their events). */
  direct(i: number): boolean {
    const r = this.#records[i]!;
    if (this.#ids.length > 0) return this.#ids.some((e) => mentions(this.texts[i]!, e));
    return this.#named.has(r.node) || this.#named.has(r.from ?? '') || this.#named.has(r.to ?? '');
  }

  /** The events of the story, each with how much it tells (Tier). */
  rank(): Map<number, Tier> {
    const tiers = new Map<number, Tier>();
    const records = this.#records;
    const rank = (i: number, tier: Tier): void => {
      if (TOLD.has(records[i]!.event) && !FAULTS.has(records[i]!.event)) tiers.set(i, Math.min(tiers.get(i) ?? Tier.Reply, tier) as Tier);
    };
    if (this.#violation.phase === 'workload') for (const i of causeChain(records, this.#violation.step)) rank(i, Tier.Cause);
    records.forEach((r, i) => {
      if (!this.#inCone[i]) return;
      if (r.event === 'log') {
        // The model's own account of a step: a relevant log brings in the event it is told beside.
        const told = stepEventOf(records, i);
        if (told >= 0 && this.direct(i)) rank(told, Tier.Logged);
      } else if (this.direct(i)) {
        rank(i, this.decided.has(i) ? Tier.Logged : Tier.Named);
      } else if (r.envelope === 'rep' && r.event !== 'send' && requestOf(records, i) >= 0 && this.direct(requestOf(records, i))) {
        rank(i, Tier.Reply); // a reply is about what its request was about (a lock's answer need not name the instance)
      }
    });
    for (const i of this.#inFlight()) tiers.set(i, Tier.Named);
    for (const i of faultsOn(records, this.#lanes(tiers))) tiers.set(i, Tier.Cause);
    return tiers;
  }

  /** Messages still in flight when the invariant broke (a state published, not yet heard). */
  #inFlight(): number[] {
    const arrived = new Set(this.#records.flatMap((r) => (r.event === 'deliver' || r.event === 'lost' ? [r.msg] : [])));
    return this.#records.flatMap((r, i) => (r.event === 'send' && this.#inCone[i] && !arrived.has(r.msg) && this.direct(i) ? [i] : []));
  }

  /** The nodes the story passes through. */
  #lanes(tiers: ReadonlyMap<number, Tier>): Set<string> {
    const lanes = new Set<string>(this.#named);
    for (const i of tiers.keys()) {
      lanes.add(this.#records[i]!.node);
      if (this.#records[i]!.from !== undefined) lanes.add(this.#records[i]!.from!);
    }
    return lanes;
  }

  /**
   * How common the rarest id an event names is, counted in kinds of events among the story's
   * (the same message with other numbers is one kind, so a poll every second counts once): the
   * rarer, the more it tells (the one step naming the saga tells more than the many kinds of
   * listings naming the instance).
   */
  weigher(indices: readonly number[]): (i: number) => number {
    const kinds = new Map(this.#ids.map((e) => [e, new Set<string>()]));
    for (const i of indices) for (const e of this.#ids) if (mentions(this.texts[i]!, e)) kinds.get(e)!.add(`${this.#records[i]!.event} ${this.texts[i]!.replace(/\d+/g, '#')}`);
    return (i) => Math.min(Infinity, ...this.#ids.filter((e) => mentions(this.texts[i]!, e)).map((e) => kinds.get(e)!.size));
  }
}

/**
 * How much an event matters to the story, most first: the violation's chain of causes and the
 * faults; events the model logged about, or that a decision shaped (a shrunk run keeps only
 * decisions that matter); events that name what the violation names; replies to requests that did.
 */
const Tier = { Cause: 0, Logged: 1, Named: 2, Reply: 3 } as const;
type Tier = (typeof Tier)[keyof typeof Tier];

interface StoryEntry {
  readonly line: string;
  readonly tier: Tier;
  /** How common the rarest id the line names is in the run (Infinity: it names none). */
  readonly weight: number;
  /** The records the line tells (more than one when folded). */
  readonly members: readonly number[];
}

/**
 * A story longer than `maxLines` after folding loses its least telling lines (the highest tier;
 * within one, those naming only common ids; then the earliest), and says how many it left out
 * and how to see them.
 */
function withinBudget(entries: readonly StoryEntry[], maxLines: number, entities: readonly string[]): { lines: string[]; kept: StoryEntry[] } {
  if (entries.length <= maxLines) return { lines: entries.map((e) => e.line), kept: [...entries] };
  const order = entries.map((e, k) => ({ ...e, k })).sort((a, b) => b.tier - a.tier || (a.weight === b.weight ? 0 : a.weight < b.weight ? 1 : -1) || a.k - b.k);
  const dropped = new Set(order.slice(0, entries.length - (maxLines - 1)).map((e) => e.k));
  const kept = entries.filter((_, k) => !dropped.has(k));
  const see = entities.length > 0 ? `--entity ${entities[0]}` : '--all';
  return { lines: [...kept.map((e) => e.line), `(${dropped.size} more lines about ${entities.join(', ') || 'these nodes'} left out: ${see} shows them)`], kept };
}

/** The faults that touched a node the story passes through. */
function faultsOn(records: readonly TraceRecord[], lanes: ReadonlySet<string>): number[] {
  const out: number[] = [];
  records.forEach((r, i) => {
    if (!FAULTS.has(r.event)) return;
    const touches = r.node !== '' ? lanes.has(r.node) : [...lanes].some((n) => mentions(r.text ?? '', n)) || r.text === 'all faults';
    if (touches) out.push(i);
  });
  return out;
}

/** For a reply's delivery: the step event in which it was sent (the request's handling), else -1. */
function requestOf(records: readonly TraceRecord[], i: number): number {
  const send = records[i]!.cause ?? -1;
  return send < 0 ? -1 : stepEventOf(records, send);
}

/** The event of the step a record belongs to (a log's, a send's), or -1 (the world's setup). */
function stepEventOf(records: readonly TraceRecord[], i: number): number {
  for (let j = i; j >= 0 && records[j]!.step === records[i]!.step; j--) if (STEP.has(records[j]!.event)) return j;
  return -1;
}

/**
 * The violation's direct causes, newest first: the step that broke the invariant, the step that
 * sent the message it handled (or set its timer), that step's own cause, and so on back, along
 * messages and timers only. It stops at a workflow's resumption (its cause is the workflow's
 * own previous step: the user's previous request, back to the start) and at a scheduled action
 * (its cause is the scheduler's plumbing: the nemesis tick before it). A reply's delivery is
 * passed through, not told: the request it answers is.
 */
function causeChain(records: readonly TraceRecord[], step: number): number[] {
  const chain: number[] = [];
  let at = records.findIndex((r) => r.step === step && STEP.has(r.event));
  for (let hops = 0; at >= 0 && hops < CHAIN_MAX; hops++) {
    const r = records[at]!;
    if (r.envelope !== 'rep' || hops === 0) chain.push(at);
    if (r.event === 'action' || r.event === 'resume') break;
    const cause = r.cause ?? -1;
    at = cause < 0 ? -1 : STEP.has(records[cause]!.event) ? cause : stepEventOf(records, cause);
  }
  return chain;
}

/**
 * The decisions each record was shaped by: the choices that departed from the default, each on
 * the record it was drawn for (-1: the world's setup); with `echoOnDelivery` a message's network
 * draws also show on its delivery or loss (the story shows deliveries, not sends).
 */
export function decisionsByRecord(records: readonly TraceRecord[], choices: ChoiceRecorder | null, echoOnDelivery: boolean): Map<number, string[]> {
  const decided = new Map<number, string[]>();
  const recordOf = choices?.recordOf ?? null;
  if (choices === null || recordOf === null) return decided;
  const add = (i: number, d: string): void => {
    if (!decided.has(i)) decided.set(i, []);
    decided.get(i)!.push(d);
  };
  choices.values.forEach((v, k) => {
    if (v !== 0) add(recordOf[k]!, `${choices.labels[k]}=${v}`);
  });
  if (!echoOnDelivery) return decided;
  records.forEach((r, i) => {
    if ((r.event === 'deliver' || r.event === 'lost') && r.cause !== undefined && decided.has(r.cause)) {
      for (const d of decided.get(r.cause)!) add(i, `${d} (at its send)`);
    }
  });
  return decided;
}

/** A story line: the event whole, its decisions after it, and when it was sent if it waited. */
export function storyLine(records: readonly TraceRecord[], i: number, decided: ReadonlyMap<number, readonly string[]>): string {
  const r = records[i]!;
  let line = describeRecord(r, Infinity);
  const sent = r.cause === undefined || r.event !== 'deliver' ? undefined : records[r.cause];
  if (sent !== undefined && sent.timeMs !== r.timeMs) line += ` (sent ${sent.timeMs}ms)`;
  if (r.event === 'send') line += ' (still in flight at the end)';
  const mine = decided.get(i);
  if (mine !== undefined) line += `   <- ${mine.join(' ')}`;
  const notes = STEP.has(r.event) ? logsOfStep(records, i) : [];
  return notes.length === 0 ? line : `${line}   // ${notes.join('; ')}`;
}

/** What the node logged while handling the step's event (the model's own account of it). */
function logsOfStep(records: readonly TraceRecord[], i: number): string[] {
  const notes: string[] = [];
  for (let j = i + 1; j < records.length && records[j]!.step === records[i]!.step && !STEP.has(records[j]!.event); j++) {
    const note = records[j]!;
    // An action runs on no node: what any node logged in it is its account.
    if (note.event === 'log' && (note.node === records[i]!.node || records[i]!.event === 'action')) notes.push(records[i]!.event === 'action' ? `${note.node}: ${note.text}` : (note.text ?? ''));
  }
  return notes;
}

/** What a line says without its step and time: two events with one shape repeat each other. */
function shapeOf(line: string, masked: boolean): string {
  const body = line.replace(/^#\d+ \d+ms /, '').replace(/ \(sent \d+ms\)/, '');
  return masked ? body.replace(/\d+/g, '#') : body;
}

/**
 * Events that say the same thing, folded into the first of them and a count, as little as keeps
 * the story within `maxLines`: runs of exact repeats; then runs that differ only in numbers (a
 * generation, a job id counting up, the same message to ds-1, ds-2, ds-3); then exact repeats
 * anywhere in the story (a poll that comes back every second, told once with its count and the
 * last time); then repeats anywhere that differ only in numbers. A folded line is as telling as
 * the most telling event in it.
 */
function foldRepeats(entries: readonly StoryEntry[], maxLines: number): StoryEntry[] {
  let folded: StoryEntry[] = [...entries];
  for (const [masked, anywhere] of FOLDS) {
    folded = fold(entries, masked, anywhere);
    if (folded.length <= maxLines) break;
  }
  return folded;
}

const FOLDS: readonly (readonly [masked: boolean, anywhere: boolean])[] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

/** Repeats folded: consecutive ones, or (`anywhere`) each shape told once where it first happened. */
function fold(entries: readonly StoryEntry[], masked: boolean, anywhere: boolean): StoryEntry[] {
  const groups: StoryEntry[][] = [];
  const byShape = new Map<string, StoryEntry[]>();
  for (const e of entries) {
    const shape = shapeOf(e.line, masked);
    const open = anywhere ? byShape.get(shape) : groups.at(-1);
    if (open !== undefined && shapeOf(open[0]!.line, masked) === shape) {
      open.push(e);
      continue;
    }
    const group = [e];
    groups.push(group);
    byShape.set(shape, group);
  }
  return groups.map((g) => ({
    line: g.length === 1 ? g[0]!.line : `${g[0]!.line}   ×${g.length}${foldNote(g.map((e) => e.line), masked)}`,
    tier: Math.min(...g.map((e) => e.tier)) as Tier,
    weight: Math.min(...g.map((e) => e.weight)),
    members: g.flatMap((e) => e.members),
  }));
}

/** What a fold hides: until when, and (when numbers were masked) which nodes took part. */
function foldNote(group: readonly string[], masked: boolean): string {
  const last = group.at(-1)!.match(/^#\d+ (\d+)ms/)?.[1];
  const until = last === undefined ? '' : ` until ${last}ms`;
  if (!masked) return until;
  const who = [...new Set(group.map((l) => l.replace(/^#\d+ \d+ms /, '').split(' ')[0]!))];
  const to = [...new Set(group.map((l) => l.replace(/^#\d+ \d+ms /, '').split(' ')[2] ?? ''))];
  const vary = who.length > 1 ? who : to.length > 1 ? to : [];
  return `${vary.length > 1 ? ` (${vary.join(', ')})` : ''}${until}`;
}
