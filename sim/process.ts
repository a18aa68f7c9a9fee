// What the engine runs: nodes made of event handlers, and workflows made of generators.
//
// A node is booted from its durable state alone (`boot(env, durable)`); everything else the
// returned process holds is volatile and dies with a crash. Handlers are synchronous. Multi-step
// work is a workflow: a generator that yields effects and is resumed with their results; every
// yield lets other events in, which is where races live.
//
// The protocol code under test (model/) declares the same shapes on its own side and never
// imports this file; TypeScript's structural typing lets a scenario plug one into the other.

export type NodeId = string;

/** Call another node and wait for its reply, or for `timeoutMs` of virtual time. */
export interface CallEffect {
  readonly kind: 'call';
  readonly to: NodeId;
  readonly request: unknown;
  readonly timeoutMs: number;
}

/** Wait `ms` of virtual time. */
export interface SleepEffect {
  readonly kind: 'sleep';
  readonly ms: number;
}

export type Effect = CallEffect | SleepEffect;

export type CallResult =
  | { readonly ok: true; readonly reply: unknown }
  | { readonly ok: false; readonly error: 'timeout' };

export type Workflow = Generator<Effect, unknown, unknown>;

/** The world as a node sees it. */
export interface Env {
  readonly self: NodeId;
  now(): number;
  /** One-way message; may be delayed, lost, duplicated or reordered by the network. */
  send(to: NodeId, message: unknown): void;
  /** `onTimer(tag)` after `delayMs`; lost if the node crashes first. */
  setTimer(delayMs: number, tag: unknown): void;
  /** Start a workflow; it first runs in this same step, up to its first yield. */
  spawn(name: string, workflow: Workflow): void;
  choose(label: string, n: number): number;
  /** A fresh id, unique for the whole run (crashes included): `${prefix}-${n}`. */
  mintId(prefix: string): string;
  /** An annotation in the full trace. */
  log(text: string): void;
  /** A coverage probe: counted in `Simulator.probes`. */
  probe(name: string): void;
}

export interface Process {
  onMessage?(env: Env, from: NodeId, message: unknown): void;
  onTimer?(env: Env, tag: unknown): void;
  /** Serve a call at once: the return value is the reply, sent in the same step; undefined declines it (onRequest serves it). */
  onCall?(env: Env, from: NodeId, request: unknown): unknown;
  /** Serve a call with a workflow; its return value is the reply. (onCall goes first if both exist.) */
  onRequest?(env: Env, from: NodeId, request: unknown): Workflow;
  /** What the node holds in memory, for a person reading a run (`stairwell view`): plain data. */
  inspect?(): unknown;
}

export interface NodeSpec<D = unknown> {
  readonly id: NodeId;
  initDurable(): D;
  boot(env: Env, durable: D): Process;
}
