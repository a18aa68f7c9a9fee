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
  readonly kind: EventKind;
  readonly host: Host | null;
  readonly from: Host | null;
  readonly inc: number;
  readonly fromInc: number;
  readonly payload: unknown;
  readonly wf: WorkflowRun | null;
  readonly rpcId: number;
  readonly label: string;

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

