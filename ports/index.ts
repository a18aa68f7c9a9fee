// The ports: the one set of shapes protocol code and the engine meet at. Protocol code (model/, or a
// user's own nodes) sees the world only through `Env` (send, timers, flows, choices, the clock, a
// log, probes) and is driven through `Process` handlers; the engine (sim/) hosts any `NodeDef`.
// Neither side imports the other: both import this file, which imports nothing.
//
// A node is booted from its durable state alone (`boot(env, durable)`); everything else the
// returned process holds is volatile and dies with a crash. Handlers are synchronous. Multi-step
// work is a flow: a generator that yields effects and is resumed with their results; every yield
// lets other events in, which is where races live. The simulator is one host of these shapes;
// real sockets and a real clock could be another.

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

export type CallResult<R> = { readonly ok: true; readonly reply: R } | { readonly ok: false; readonly error: 'timeout' };

/** A workflow: yields effects, is resumed with their results, returns R. */
export type Flow<R> = Generator<Effect, R, unknown>;

export interface Env {
  readonly self: NodeId;
  now(): number;
  /** One-way message; may be delayed, lost, duplicated or reordered by the network. */
  send(to: NodeId, message: unknown): void;
  /** `onTimer(tag)` after `delayMs`; lost if the node crashes first. */
  setTimer(delayMs: number, tag: unknown): void;
  /** Start a flow; it first runs in this same step, up to its first yield. */
  spawn(name: string, flow: Flow<unknown>): void;
  /** An integer in [0, n); 0 is the simplest answer. */
  choose(label: string, n: number): number;
  /** A fresh id, unique for the whole run (crashes included): `${prefix}-${n}`. */
  mintId(prefix: string): string;
  /** An annotation in the full trace (a story shows it under the event it was logged in). */
  log(text: string): void;
  /** A named path that matters was reached (a coverage probe: counted per run, `sweep --probes`). */
  probe?(name: string): void;
}

export interface Process {
  onMessage?(env: Env, from: NodeId, message: unknown): void;
  onTimer?(env: Env, tag: unknown): void;
  /** Serve a call at once: the return value is the reply; undefined declines it, for onRequest to serve. */
  onCall?(env: Env, from: NodeId, request: unknown): unknown;
  /** Serve a call with a flow; its return value is the reply. (onCall goes first if both exist.) */
  onRequest?(env: Env, from: NodeId, request: unknown): Flow<unknown>;
  /** What the node holds in memory, for a person reading a run (`stairwell view`): plain data. */
  inspect?(): unknown;
}

/** A node: its id, its durable state on first boot, and how it boots from durable state (again after each crash). */
export interface NodeDef<D> {
  readonly id: NodeId;
  initDurable(): D;
  boot(env: Env, durable: D): Process;
}

/** Bug switches on for a run: each restores one historical (or planted) behaviour; a scenario's registry lists them. */
export type Bugs = ReadonlySet<string>;

/**
 * Mark a path that matters as reached, as FoundationDB's CODE_PROBE or TigerBeetle's marks: a
 * sweep counts the runs that reach each probe (`sweep --probes`), and each scenario names the
 * probes it must reach (`requiredProbes`), so a green sweep also says the guarded paths ran.
 */
export function probe(env: Env, name: string): void {
  env.probe?.(name);
}

/** Call another node; the reply's type is the caller's promise about that node's API. */
export function* call<R>(to: NodeId, request: unknown, timeoutMs: number): Flow<CallResult<R>> {
  return (yield { kind: 'call', to, request, timeoutMs }) as CallResult<R>;
}

export function* sleep(ms: number): Flow<void> {
  yield { kind: 'sleep', ms };
}

/** A value in [min, max] drawn through the environment's choices; min is the simplest. */
export function between(env: Env, label: string, min: number, max: number): number {
  return min + env.choose(label, max - min + 1);
}

/** Yes with probability perMille/1000, drawn through the environment's choices; no is the simplest. */
export function flip(env: Env, label: string, perMille: number): boolean {
  if (perMille <= 0) return false;
  return env.choose(label, 1000) >= 1000 - perMille;
}
