// The simulator's scheduled events.

import type { Host, WorkflowRun } from './host.ts';

export type EventKind = 'deliver' | 'timer' | 'resume' | 'action';

/**
 * One scheduled event. Every kind shares this one shape (V8 keeps the heap's comparisons
 * monomorphic that way); which fields mean what depends on `kind`:
 * - deliver: `host` receives message `payload` from `from`; `inc`/`fromInc` are the two
 *   incarnations at sending time; `label` is the envelope, `wf` and `rpcId` name the calling
 *   workflow and its call for a 'req' or 'rep';
 * - timer: `host`'s timer with tag `payload`, set by incarnation `inc`;
 * - resume: workflow `wf` resumes with `payload` if its token is still `inc`;
 * - action: `payload` is the function to run, `label` names it.
 */
export class SimEvent {
  time: number;
  seq = 0;
  kind: EventKind;
  host: Host | null;
  from: Host | null;
  inc: number;
  fromInc: number;
  payload: unknown;
  wf: WorkflowRun | null;
  rpcId: number;
  label: string;
  /** Parked on a held link: not to be recycled when its step ends. */
  held = false;
  /** Traced runs only: the record that scheduled this event (-1: none, or not traced). */
  cause = -1;
  /** Traced runs only: the message's number, shared by its send and its deliveries (0: none). */
  msgId = 0;

  constructor(kind: EventKind, time: number, host: Host | null, from: Host | null, inc: number, fromInc: number, payload: unknown, wf: WorkflowRun | null, rpcId: number, label: string) {
    this.kind = kind;
    this.time = time;
    this.host = host;
    this.from = from;
    this.inc = inc;
    this.fromInc = fromInc;
    this.payload = payload;
    this.wf = wf;
    this.rpcId = rpcId;
    this.label = label;
  }
}

/**
 * A free list of events. A sweep schedules millions of events and each is done with after its
 * step, so the simulator recycles them instead of leaving them all to the garbage collector.
 */
export class EventPool {
  readonly #free: SimEvent[] = [];

  make(kind: EventKind, time: number, host: Host | null, from: Host | null, inc: number, fromInc: number, payload: unknown, wf: WorkflowRun | null, rpcId: number, label: string): SimEvent {
    const ev = this.#free.pop();
    if (ev === undefined) return new SimEvent(kind, time, host, from, inc, fromInc, payload, wf, rpcId, label);
    ev.kind = kind;
    ev.time = time;
    ev.host = host;
    ev.from = from;
    ev.inc = inc;
    ev.fromInc = fromInc;
    ev.payload = payload;
    ev.wf = wf;
    ev.rpcId = rpcId;
    ev.label = label;
    ev.cause = -1;
    ev.msgId = 0;
    return ev;
  }

  /** The event is off the queue and referenced nowhere else. */
  recycle(ev: SimEvent): void {
    if (ev.held || this.#free.length >= 4096) return;
    ev.host = null;
    ev.from = null;
    ev.payload = null;
    ev.wf = null;
    this.#free.push(ev);
  }
}
