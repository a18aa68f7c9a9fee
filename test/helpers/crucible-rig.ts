// The Crucible rigs for the model's unit tests, as Crucible's own unit tests drive its nodes: one
// node booted by hand on a fake Env, fed frames, and checked on what it sent and on its state.
// The shapes are those of scenarios/crucible-world.ts (copied, not imported, so these tests load
// no simulator, oracle or nemesis code).

import { downstairs, type DownstairsProcess } from '../../model/crucible/downstairs/node.ts';
import { CRUCIBLE_VERSION, type DownstairsMessage, type ExtentVersionsBody, type Framed, type RegionDefinition, type UpstairsMessage } from '../../model/crucible/protocol.ts';
import type { UpstairsReply } from '../../model/crucible/upstairs/control.ts';
import { upstairs, type UpstairsProcess } from '../../model/crucible/upstairs/node.ts';
import { describeDs } from '../../model/crucible/upstairs/states.ts';
import type { Env, Flow, Process } from '../../ports/index.ts';

export const REGION: RegionDefinition = { regionId: 'region-a', extentCount: 4, blocksPerExtent: 4 };
export const DOWNSTAIRS = ['ds-1', 'ds-2', 'ds-3'] as const;
export const CONTROL = 'control';

// ---------------------------------------------------------------------------------------------
// A fake Env: every effect is recorded, time moves only when a test says so, timers fire only
// when a test fires them.

export interface Sent {
  readonly to: string;
  readonly message: unknown;
}

export interface FakeEnv extends Env {
  readonly sent: Sent[];
  /** Timers set and not yet fired, in the order they were set. */
  readonly timers: { readonly delayMs: number; readonly tag: unknown }[];
  readonly spawned: string[];
  setNow(ms: number): void;
}

export function fakeEnv(self: string): FakeEnv {
  let nowMs = 0;
  let ids = 0;
  const sent: Sent[] = [];
  const timers: FakeEnv['timers'] = [];
  const spawned: string[] = [];
  return {
    self,
    sent,
    timers,
    spawned,
    setNow: (ms) => void (nowMs = ms),
    now: () => nowMs,
    send: (to, message) => void sent.push({ to, message }),
    setTimer: (delayMs, tag) => void timers.push({ delayMs, tag }),
    spawn: (name: string, _flow: Flow<unknown>) => void spawned.push(name),
    choose: () => 0,
    mintId: (prefix) => `${prefix}-${++ids}`,
    log: () => {},
  };
}

/** Fire (and forget) every pending timer whose tag has this type; returns how many fired. */
export function fireTimers(env: FakeEnv, process: Process, type: string): number {
  const due = env.timers.filter((t) => (t.tag as { type: string }).type === type);
  for (const t of due) env.timers.splice(env.timers.indexOf(t), 1);
  for (const t of due) process.onTimer!(env, t.tag);
  return due.length;
}

export const pendingTimers = (env: FakeEnv, type: string): number => env.timers.filter((t) => (t.tag as { type: string }).type === type).length;

// ---------------------------------------------------------------------------------------------
// Downstairs rig: the test plays the upstairs end of each connection.

export interface DsRig {
  readonly env: FakeEnv;
  readonly ds: DownstairsProcess;
}

/** One upstairs connection, as the test plays it: its own contiguous seq numbers. */
export interface Conn {
  readonly node: string;
  readonly conn: string;
  readonly upstairsId: string;
  readonly sessionId: string;
  seq: number;
}

export function bootDownstairs(opts: { readonly readOnly?: boolean; readonly bugs?: readonly string[] } = {}): DsRig {
  const env = fakeEnv('ds-1');
  const def = downstairs({ id: 'ds-1', region: REGION, readOnly: opts.readOnly ?? false, idleMsMax: 3_000 }, new Set(opts.bugs ?? []));
  const ds = def.boot(env, def.initDurable()) as DownstairsProcess;
  return { env, ds };
}

/** Open a connection with HereIAm (seq 1). */
export function hereIAm(rig: DsRig, c: Omit<Conn, 'seq'>, gen: number, readOnly = false): Conn {
  const conn: Conn = { ...c, seq: 0 };
  say(rig, conn, { type: 'HereIAm', version: CRUCIBLE_VERSION, upstairsId: c.upstairsId, sessionId: c.sessionId, gen, readOnly });
  return conn;
}

export function say(rig: DsRig, c: Conn, message: UpstairsMessage): void {
  rig.ds.onMessage!(rig.env, c.node, { type: 'Frame', conn: c.conn, seq: ++c.seq, message } satisfies Framed<UpstairsMessage>);
}

/** HereIAm then PromoteToActive with the same ids: what a well-behaved upstairs sends. */
export function promote(rig: DsRig, c: Omit<Conn, 'seq'>, gen: number, readOnly = false): Conn {
  const conn = hereIAm(rig, c, gen, readOnly);
  say(rig, conn, { type: 'PromoteToActive', upstairsId: c.upstairsId, sessionId: c.sessionId, gen });
  return conn;
}

/** Promote, then finish negotiation (RegionInfoPlease, ExtentVersionsPlease): Running. */
export function running(rig: DsRig, c: Omit<Conn, 'seq'>, gen: number, readOnly = false): Conn {
  const conn = promote(rig, c, gen, readOnly);
  say(rig, conn, { type: 'RegionInfoPlease' });
  say(rig, conn, { type: 'ExtentVersionsPlease' });
  return conn;
}

/** What the downstairs sent on one connection; its seq numbers must run 1, 2, 3... */
export function heard(rig: DsRig, c: Conn): DownstairsMessage[] {
  const frames = rig.env.sent.map((s) => s.message as Framed<DownstairsMessage>).filter((f) => f.conn === c.conn);
  frames.forEach((f, i) => {
    if (f.seq !== i + 1) throw new Error(`connection ${c.conn}: frame ${i} has seq ${f.seq}`);
  });
  for (const s of rig.env.sent) if ((s.message as Framed<unknown>).conn === c.conn && s.to !== c.node) throw new Error(`connection ${c.conn}: frame sent to ${s.to}`);
  return frames.map((f) => f.message);
}

export const types = (ms: readonly { readonly type: string }[]): string[] => ms.map((m) => m.type);
export const activeConns = (rig: DsRig): string[] => rig.ds.active().map((c) => c.conn);

export const U1 = { node: 'up-1', upstairsId: 'upstairs-1', sessionId: 'session-1' } as const;
export const U2 = { node: 'up-2', upstairsId: 'upstairs-2', sessionId: 'session-2' } as const;


// ---------------------------------------------------------------------------------------------
// Upstairs rig: the test plays the three downstairs and the control plane.

export interface UpRig {
  readonly env: FakeEnv;
  readonly proc: UpstairsProcess;
  /** The seq the test last used on each connection, playing the downstairs end. */
  readonly dsSeq: Map<string, number>;
}

export function bootUpstairs(bugs: readonly string[] = [], opts: { readonly readOnly?: boolean } = {}): UpRig {
  const env = fakeEnv('upstairs-a');
  const def = upstairs({ id: 'upstairs-a', upstairsId: 'upstairs-1', downstairs: DOWNSTAIRS, region: REGION, keepAliveMs: 300, deadAfterMs: 1_200, holdMax: 30, control: CONTROL, readOnly: opts.readOnly ?? false }, new Set(bugs));
  const proc = def.boot(env, def.initDurable()) as UpstairsProcess;
  return { env, proc, dsSeq: new Map() };
}

export function goActiveWithGen(rig: UpRig, requestId: string, gen: number): void {
  rig.proc.onMessage!(rig.env, CONTROL, { type: 'GoActiveWithGen', requestId, gen });
}

/** Downstairs `i` sends a message on the client's current connection. */
export function fromDs(rig: UpRig, i: number, message: DownstairsMessage): void {
  const conn = rig.proc.upstairs.clients[i]!.conn;
  if (conn === null) throw new Error(`client ${i} has no connection`);
  const seq = (rig.dsSeq.get(conn) ?? 0) + 1;
  rig.dsSeq.set(conn, seq);
  rig.proc.onMessage!(rig.env, DOWNSTAIRS[i]!, { type: 'Frame', conn, seq, message } satisfies Framed<DownstairsMessage>);
}

/** Everything the upstairs sent to downstairs `i`, on any connection. */
export function toDs(rig: UpRig, i: number): UpstairsMessage[] {
  return rig.env.sent.filter((s) => s.to === DOWNSTAIRS[i]).map((s) => (s.message as Framed<UpstairsMessage>).message);
}

/** The last message sent to downstairs `i`, which must be of this type. */
export function expectLast<T extends UpstairsMessage['type']>(rig: UpRig, i: number, type: T): Extract<UpstairsMessage, { type: T }> {
  const last = toDs(rig, i).at(-1);
  if (last?.type !== type) throw new Error(`client ${i}: expected ${type} last, got ${JSON.stringify(last)}`);
  return last as Extract<UpstairsMessage, { type: T }>;
}

export function versions(gen: number, flush: number): ExtentVersionsBody {
  const n = REGION.extentCount;
  return { gen: Array(n).fill(gen), flush: Array(n).fill(flush), dirty: Array(n).fill(false) };
}

/** Walk client `i` through negotiation (HereIAm .. ExtentVersions) as its downstairs would answer, up to WaitQuorum. */
export function negotiate(rig: UpRig, i: number, body: ExtentVersionsBody): void {
  expectLast(rig, i, 'HereIAm');
  fromDs(rig, i, { type: 'YesItsMe', version: CRUCIBLE_VERSION });
  const p = expectLast(rig, i, 'PromoteToActive');
  fromDs(rig, i, { type: 'YouAreNowActive', upstairsId: p.upstairsId, sessionId: p.sessionId, gen: p.gen });
  expectLast(rig, i, 'RegionInfoPlease');
  fromDs(rig, i, { type: 'RegionInfo', region: REGION });
  expectLast(rig, i, 'ExtentVersionsPlease');
  fromDs(rig, i, { type: 'ExtentVersions', ...body });
}

export function negotiateAll(rig: UpRig, body: ExtentVersionsBody): void {
  for (let i = 0; i < DOWNSTAIRS.length; i++) negotiate(rig, i, body);
}

export type ActivationReply = Extract<UpstairsReply, { type: 'ActivationReply' }>;

export function activationReplies(rig: UpRig): ActivationReply[] {
  return rig.env.sent.filter((s) => s.to === CONTROL && (s.message as { type: string }).type === 'ActivationReply').map((s) => s.message as ActivationReply);
}

export const clientStates = (rig: UpRig): string[] => rig.proc.upstairs.clients.map((c) => describeDs(c.state));
export const hereIAms = (rig: UpRig): number => DOWNSTAIRS.reduce((n, _, i) => n + toDs(rig, i).filter((m) => m.type === 'HereIAm').length, 0);

export const STOPPED = ['Stopping(Disabled)', 'Stopping(Disabled)', 'Stopping(Disabled)'];
export const PARKED = ['Connecting{WaitConnect, New}', 'Connecting{WaitConnect, New}', 'Connecting{WaitConnect, New}'];
export const ALL_ACTIVE = ['Active', 'Active', 'Active'];

/** Boot and take the upstairs to Active at `gen` over empty extents (the ok reply is sent). */
export function activeUpstairs(gen: number, bugs: readonly string[] = []): UpRig {
  const rig = bootUpstairs(bugs);
  goActiveWithGen(rig, 'r1', gen);
  negotiateAll(rig, versions(0, 0));
  return rig;
}

/** Client `i`'s connection breaks, and its renegotiation fails while the upstairs is Active: it comes back Faulted. */
/** GoActive at gen 2 where client 0 alone holds extent 0 flushed at (gen 1, flush 1): all three reconcile, extent 0 fixed from client 0. */
export function reconcilingRig(): UpRig {
  const rig = bootUpstairs();
  goActiveWithGen(rig, 'r1', 2);
  const newer: ExtentVersionsBody = { ...versions(0, 0), gen: [1, 0, 0, 0], flush: [1, 0, 0, 0] };
  negotiate(rig, 0, newer);
  negotiate(rig, 1, versions(0, 0));
  negotiate(rig, 2, versions(0, 0));
  return rig;
}

export function faultClient(rig: UpRig, i: number): void {
  fromDs(rig, i, { type: 'Closed', reason: 'connection reset' });
  fireTimers(rig.env, rig.proc, 'Reconnect');
  expectLast(rig, i, 'HereIAm');
  fromDs(rig, i, { type: 'ExtentVersions', ...versions(0, 0) }); // out of order: NegotiationFailed
  fireTimers(rig.env, rig.proc, 'TaskStopped');
  fireTimers(rig.env, rig.proc, 'Reconnect');
}
