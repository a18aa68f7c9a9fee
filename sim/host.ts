// One node as the simulator holds it: the spec it was built from, its durable state (which
// outlives crashes), and the volatile rest: the running process, its workflows and its
// outstanding calls (which do not).

import type { Env, NodeId, NodeSpec, Process, Workflow } from './process.ts';

export interface WorkflowRun {
  readonly id: number;
  readonly name: string;
  readonly host: Host;
  readonly gen: Workflow;
  /** Bumped at every yield and every reply; a resume event carrying an old token is stale. */
  token: number;
  /** The call this workflow waits on, 0 if none. */
  rpcId: number;
  readonly replyTo: { readonly to: Host; readonly rpcId: number } | null;
  alive: boolean;
}

export class Host {
  readonly spec: NodeSpec<unknown>;
  readonly index: number;
  readonly durable: unknown;
  process: Process | null = null;
  env: Env | null = null;
  up = false;
  /** Bumped at every boot; events addressed to an older incarnation are stale. */
  incarnation = 0;
  readonly workflows = new Set<WorkflowRun>();
  readonly calls = new Map<number, WorkflowRun>();

  constructor(spec: NodeSpec<unknown>, index: number) {
    this.spec = spec;
    this.index = index;
    this.durable = spec.initDurable();
  }

  get id(): NodeId {
    return this.spec.id;
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
    for (const wf of this.workflows) wf.alive = false;
    this.workflows.clear();
    this.calls.clear();
  }
}
