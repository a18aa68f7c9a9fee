// Documents for the viewer's tests, made by hand: a small run whose every feature is known
// (three nodes, a message and its reply, a lost message, a partition, a crash and its restart,
// decisions, story and folded events, states, a violation), a long one of any size, and diffs of
// each against a changed copy. Synthetic, so the tests say exactly what the page must show
// whatever the simulator's runs look like this week.

import type { DiffDocument, RunDocument, ViewEvent } from '../../viewer/document.ts';

type Partial = Omit<ViewEvent, 'i' | 'line' | 'story'> & { readonly story?: boolean; readonly line?: string };

function finish(events: readonly Partial[]): ViewEvent[] {
  return events.map((e, i) => ({ ...e, i, story: e.story ?? true, line: e.line ?? `#${e.step} ${e.timeMs}ms ${e.node} ${e.kind}` }));
}

/** The small run: events 0..13, and what each is. */
export function smallDocument(): RunDocument {
  const events = finish([
    { step: 1, timeMs: 1, kind: 'timer', node: 'a', line: '#1 1ms a timer Tick', state: { a: 0 } },
    { step: 1, timeMs: 1, kind: 'send', node: 'a', peer: 'b', line: '#1 1ms a sends b req Get {"key":"k-1"}', decisions: ['net.delayMs=3'] },
    { step: 2, timeMs: 4, kind: 'deliver', node: 'b', peer: 'a', sendIndex: 1, line: '#2 4ms a -> b req Get {"key":"k-1"}', decisions: ['net.delayMs=3 (at its send)'], state: { b: 1 } },
    { step: 2, timeMs: 4, kind: 'send', node: 'b', peer: 'a', line: '#2 4ms b sends a rep Value {"key":"k-1"}' },
    { step: 3, timeMs: 5, kind: 'deliver', node: 'a', peer: 'b', sendIndex: 3, line: '#3 5ms b -> a rep Value {"key":"k-1"}', state: { a: 2 } },
    { step: 4, timeMs: 6, kind: 'action', node: '', line: '#4 6ms  action nemesis', story: false },
    { step: 4, timeMs: 6, kind: 'fault', node: '', line: '#4 6ms FAULT nemesis: partition a | c', story: false },
    { step: 5, timeMs: 7, kind: 'timer', node: 'a', line: '#5 7ms a timer Tick', story: false },
    { step: 5, timeMs: 7, kind: 'send', node: 'a', peer: 'c', line: '#5 7ms a sends c msg Note', story: false },
    { step: 6, timeMs: 8, kind: 'lost', node: 'c', peer: 'a', sendIndex: 8, line: '#5 8ms a -> c LOST msg Note' },
    { step: 7, timeMs: 9, kind: 'action', node: '', line: '#7 9ms  action nemesis' },
    { step: 7, timeMs: 9, kind: 'crash', node: 'b', line: '#7 9ms FAULT nemesis: crash b' },
    { step: 8, timeMs: 20, kind: 'restart', node: 'b', line: '#8 20ms RESTART b (from its durable state)', state: { b: 3 } },
    { step: 9, timeMs: 21, kind: 'heal', node: '', line: '#9 21ms HEAL partition a | c' },
  ]);
  return {
    title: 'small run',
    scenario: 'toy',
    bugs: ['toy/bug'],
    seed: 7,
    nodes: ['a', 'b', 'c'],
    events,
    faults: [
      { kind: 'partition', nodes: ['a', 'c'], description: 'partition a | c', startMs: 6, endMs: 21, startIndex: 6, endIndex: 13 },
      { kind: 'crash', nodes: ['b'], description: 'crash b', startMs: 9, endMs: 20, startIndex: 11, endIndex: 12 },
    ],
    violation: { invariant: 'T-I1', text: 'a key once read keeps its value', message: 'a read k-1 twice and got two values', step: 9, timeMs: 21, phase: 'workload' },
    states: [{ a: 'idle' }, { b: 'serving k-1' }, { a: 'has k-1' }, { b: 'restarted' }],
    steps: 9,
    fingerprint: '0123456789abcdef',
  };
}

/** Where the long run's long message goes: sent at event 100, delivered as the last event. */
export const LONG_FLIGHT_SEND = 100;

/**
 * A run of `n` (even, >= 200) events over four nodes: a message per step and its delivery, one
 * event in fifty in the story, a crash that never ends, and one long message (sent at event
 * LONG_FLIGHT_SEND, delivered last), whose arrow crosses every window between.
 */
export function longDocument(n: number): RunDocument {
  const nodes = ['n-1', 'n-2', 'n-3', 'n-4'];
  const events: ViewEvent[] = [];
  for (let i = 0; i < n; i++) events.push(pingEvent(nodes, i, n));
  // The long message: its usual delivery becomes a timer, and the last delivery is its own.
  const send = events[LONG_FLIGHT_SEND]!;
  events[LONG_FLIGHT_SEND + 1] = timerEvent(events[LONG_FLIGHT_SEND + 1]!);
  events[n - 2] = timerEvent(events[n - 2]!);
  const last = events[n - 1]!;
  events[n - 1] = { ...last, node: send.peer!, peer: send.node, sendIndex: LONG_FLIGHT_SEND, line: `#${last.step} ${last.timeMs}ms ${send.node} -> ${send.peer!} msg Late {}` };
  return {
    title: `long run of ${n} events`,
    scenario: 'toy',
    bugs: [],
    seed: 1,
    nodes,
    events,
    faults: [{ kind: 'crash', nodes: ['n-2'], description: 'crash n-2', startMs: 10, endMs: null, startIndex: 20, endIndex: null }],
    violation: { invariant: 'T-L1', text: 'every ping is answered', message: `ping ${n} unanswered`, step: Math.floor(n / 2), timeMs: Math.floor(n / 2), phase: 'liveness' },
    states: [{ count: 0 }, { count: 1 }, { count: 2 }],
    steps: Math.floor(n / 2),
    fingerprint: 'fedcba9876543210',
  };
}

/** Event i of the long run: even events send a ping, odd ones deliver it. */
function pingEvent(nodes: readonly string[], i: number, n: number): ViewEvent {
  const step = Math.floor(i / 2) + 1;
  const from = nodes[step % 4]!;
  const to = nodes[(step + 1) % 4]!;
  const send = i % 2 === 0;
  return {
    i,
    step,
    timeMs: step,
    kind: send ? 'send' : 'deliver',
    node: send ? from : to,
    peer: send ? to : from,
    ...(send ? {} : { sendIndex: i - 1 }),
    line: send ? `#${step} ${step}ms ${from} sends ${to} msg Ping {"n":${step}}` : `#${step} ${step}ms ${from} -> ${to} msg Ping {"n":${step}}`,
    story: i % 50 === 1 || i === n - 1,
    ...(send ? {} : { state: { [to]: step % 3 } }),
  };
}

function timerEvent(e: ViewEvent): ViewEvent {
  return { i: e.i, step: e.step, timeMs: e.timeMs, kind: 'timer', node: e.node, line: `#${e.step} ${e.timeMs}ms ${e.node} timer Tick`, story: e.story };
}

/**
 * The small run against a copy in which the message to c arrived (event 9): the pairs agree up to
 * 8, differ at 9 (changed), then A's event 10 has no counterpart, nor B's new event 10 (c's reply).
 */
export function smallDiffDocument(): DiffDocument {
  const left = smallDocument();
  const e = left.events;
  const arrived: ViewEvent = { ...e[9]!, kind: 'deliver', line: '#6 8ms a -> c msg Note', state: { c: 4 } };
  const reply: ViewEvent = { i: 10, step: 6, timeMs: 8, kind: 'send', node: 'c', peer: 'a', line: '#6 8ms c sends a msg Ack', story: true };
  const right: RunDocument = {
    ...left,
    title: 'small run, the note delivered',
    events: [...e.slice(0, 9), arrived, reply, ...e.slice(11)],
    states: [...left.states, { c: 'got the note' }],
    violation: null,
  };
  const pairs: [number | null, number | null][] = [...e.slice(0, 10).map((x): [number, number] => [x.i, x.i]), [10, null], [null, 10], [11, 11], [12, 12], [13, 13]];
  return { left, right, pairs, firstDivergence: 9, summary: 'first divergence at aligned event 9: A lost a -> c msg Note; B delivered it' };
}

/** A long run against a copy whose pings are pongs from event `from` on: aligned one to one. */
export function longDiffDocument(n: number, from: number): DiffDocument {
  const left = longDocument(n);
  const events = left.events.map((e) => (e.i < from ? e : { ...e, line: e.line.replace('Ping', 'Pong') }));
  const right: RunDocument = { ...left, title: `${left.title}, pongs`, events };
  return { left, right, pairs: left.events.map((e) => [e.i, e.i]), firstDivergence: from, summary: `first divergence at aligned event ${from}: Ping became Pong` };
}
