// One node as the simulator holds it: the spec it was built from, its durable state (which
// outlives crashes), and the volatile rest: the running process and its workflows (which do
// not). A workflow belongs to the incarnation that started it; a crash ends the incarnation,
// and with it every workflow and every call it was waiting on, without a list to walk.

import type { Env, Flow, NodeDef, Process } from '../ports/index.ts';

export interface WorkflowRun {
  readonly name: string;
  readonly host: Host;
  /** The host's incarnation when the workflow started. */
  readonly inc: number;
  readonly gen: Flow<unknown>;
  /** Bumped at every yield and every reply; a resume event carrying an old token is stale. */
  token: number;
  /** The call this workflow waits on, 0 if none. */
  rpcId: number;
  readonly replyTo: ReplyTo | null;
  done: boolean;
}

/** Where a served call's reply goes: the calling workflow, on its host. */
export interface ReplyTo {
  readonly to: Host;
  readonly rpcId: number;
  readonly caller: WorkflowRun;
}

export function alive(wf: WorkflowRun): boolean {
  return !wf.done && wf.host.up && wf.host.incarnation === wf.inc;
}

export class Host {
  readonly spec: NodeDef<unknown>;
  readonly index: number;
  readonly durable: unknown;
  process: Process | null = null;
  env: Env | null = null;
  up = false;
  /** Killed for good: never booted again (Simulator.kill). */
  dead = false;
  /** Bumped at every boot; events addressed to an older incarnation are stale. */
  incarnation = 0;

  constructor(spec: NodeDef<unknown>, index: number) {
    this.spec = spec;
    this.index = index;
    this.durable = spec.initDurable();
  }

  boot(env: Env): void {
    this.incarnation++;
    this.up = true;
    this.env = env;
  }

  crash(): void {
    this.up = false;
    this.process = null;
    this.env = null;
  }
}
