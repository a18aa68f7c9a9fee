// The ports protocol code runs against. model/ knows nothing of the simulator: a process sees the
// world only through `Env` (send, timers, workflows, choices, the clock, a log), and multi-step
// work is a generator that yields `Effect`s. The simulator is one host of these shapes; real
// sockets and a real clock could be another.

export type NodeId = string;

export type Effect =
  | { readonly kind: 'call'; readonly to: NodeId; readonly request: unknown; readonly timeoutMs: number }
  | { readonly kind: 'sleep'; readonly ms: number };

export type CallResult<R> = { readonly ok: true; readonly reply: R } | { readonly ok: false; readonly error: 'timeout' };

/** A workflow: yields effects, is resumed with their results, returns R. */
export type Flow<R> = Generator<Effect, R, unknown>;

export interface Env {
  readonly self: NodeId;
  now(): number;
  send(to: NodeId, message: unknown): void;
  setTimer(delayMs: number, tag: unknown): void;
  spawn(name: string, flow: Flow<unknown>): void;
  /** An integer in [0, n); 0 is the simplest answer. */
  choose(label: string, n: number): number;
  /** A fresh id, unique for the whole run (crashes included): `${prefix}-${n}`. */
  mintId(prefix: string): string;
  log(text: string): void;
  /** A named path that matters was reached (a coverage probe: counted per run, `sweep --probes`). */
  probe?(name: string): void;
}

export interface Process {
  onMessage?(env: Env, from: NodeId, message: unknown): void;
  onTimer?(env: Env, tag: unknown): void;
  /** Serve a call at once: the return value is the reply; undefined declines it, for onRequest to serve. */
  onCall?(env: Env, from: NodeId, request: unknown): unknown;
  /** Serve a call with a flow; its return value is the reply. */
  onRequest?(env: Env, from: NodeId, request: unknown): Flow<unknown>;
  /** What the node holds in memory, for a person reading a run (`stairwell view`): plain data. */
  inspect?(): unknown;
}

export interface NodeDef<D> {
  readonly id: NodeId;
  initDurable(): D;
  boot(env: Env, durable: D): Process;
}

/** Bug switches: each restores one historical behaviour (scenarios/bugs.ts lists them). */
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
