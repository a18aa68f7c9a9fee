// A guest using an upstairs: it writes blocks, flushes and reads, up to DEPTH_MAX requests at a
// time, each answered by the upstairs (or given up on after a timeout). Its IO is meant to make
// a data checker bite: writes land on blocks written a moment ago (overwrites), reads ask for
// blocks just written, flushes come between, and two requests are often in flight at once.
//
// It records its history the way Jepsen's clients do: each operation's invocation, then its
// completion, ok (with the epoch that answered and, for a read, the value), failed, or unknown
// (timed out). The oracle checks every read against that history (oracle/crucible-register.ts);
// the guest itself believes whatever it is told.

import { panic } from '../assert.ts';
import { between, type Env, type NodeDef, type NodeId, type Process } from '../../ports/index.ts';
import type { RegionDefinition } from './protocol.ts';
import type { UpstairsReply, UpstairsRequest } from './upstairs/control.ts';

export interface GuestConfig {
  readonly id: NodeId;
  readonly upstairs: NodeId;
  readonly region: RegionDefinition;
  readonly opsMax: number;
  readonly thinkMsMax: number;
  readonly timeoutMs: number;
  /** When to start, so a guest can wait for its upstairs' activation. */
  readonly startMs: number;
}

export type GuestOp =
  | { readonly f: 'write'; readonly extent: number; readonly block: number; readonly writeId: string }
  | { readonly f: 'read'; readonly extent: number; readonly block: number }
  | { readonly f: 'flush' };

/** One line of the history. `epoch` names the upstairs incarnation and activation that answered
 *  (`session@gen`): what one epoch acknowledged, a later read in that epoch must see. */
export type GuestEvent =
  | { readonly type: 'invoke'; readonly opId: string; readonly op: GuestOp; readonly atMs: number }
  | { readonly type: 'ok'; readonly opId: string; readonly epoch: string; readonly value: string | null; readonly atMs: number }
  | { readonly type: 'fail'; readonly opId: string; readonly error: string; readonly atMs: number }
  | { readonly type: 'info'; readonly opId: string; readonly atMs: number };

export interface GuestProcess extends Process {
  /** Append-only, one entry per invocation or completion, in the order they happened. */
  readonly history: readonly GuestEvent[];
  readonly done: () => boolean;
}

/** Requests in flight at most: enough for a read or flush to race a write. */
const DEPTH_MAX = 2;
/** How soon a request follows the one still in flight: well within one round trip. */
const OVERLAP_MS_MAX = 5;
/** Blocks written lately, where overwrites and reads of fresh data aim. */
const RECENT_MAX = 3;

type Tag = { readonly type: 'Next' } | { readonly type: 'Timeout'; readonly requestId: string };
type Block = { readonly extent: number; readonly block: number };

/** The epoch key of a reply: the upstairs process (session) and the generation it was activated
 *  at. A deactivation and re-activation of the same process is a new epoch: its final flush is
 *  best effort (upstream `try_deactivate` faults an Offline client and skips its jobs, and still
 *  answers ok), so only what the guest itself flushed is promised across it. */
export function epochOf(reply: { readonly sessionId: string; readonly gen: number }): string {
  return `${reply.sessionId}@${reply.gen}`;
}

export function guest(config: GuestConfig): NodeDef<null> {
  return { id: config.id, initDurable: () => null, boot: (env) => new Guest(env, config) };
}

/** The guest's volatile state: its history, the requests in flight, and the blocks written lately. */
class Guest implements GuestProcess {
  readonly history: GuestEvent[] = [];
  readonly #env: Env;
  readonly #config: GuestConfig;
  readonly #inFlight = new Map<string, GuestOp>();
  readonly #recent: Block[] = [];
  #ops: number;
  #nextSet = false;

  constructor(env: Env, config: GuestConfig) {
    this.#env = env;
    this.#config = config;
    this.#ops = between(env, 'guest.ops', 1, config.opsMax);
    this.#scheduleNext(config.startMs);
  }

  readonly done = (): boolean => this.#ops <= 0 && this.#inFlight.size === 0;

  #scheduleNext(delayMs: number): void {
    if (this.#nextSet || this.#ops <= 0) return;
    this.#nextSet = true;
    this.#env.setTimer(delayMs, { type: 'Next' } satisfies Tag);
  }

  #think(): number {
    return between(this.#env, 'guest.thinkMs', 0, this.#config.thinkMsMax);
  }

  #anyBlock(): Block {
    return { extent: this.#env.choose('guest.extent', this.#config.region.extentCount), block: this.#env.choose('guest.block', this.#config.region.blocksPerExtent) };
  }

  #recentBlock(): Block {
    return this.#recent.length === 0 ? this.#anyBlock() : this.#recent[this.#env.choose('guest.recent', this.#recent.length)]!;
  }

  // Of six: a write anywhere (0), an overwrite of a block written lately (1, 5), a flush (2), a
  // read of a block written lately (3) or anywhere (4).
  #pickOp(requestId: string): GuestOp {
    const kind = this.#env.choose('guest.op', 6);
    if (kind === 2) return { f: 'flush' };
    if (kind === 3 || kind === 4) return { f: 'read', ...(kind === 3 ? this.#recentBlock() : this.#anyBlock()) };
    const at = kind === 1 || kind === 5 ? this.#recentBlock() : this.#anyBlock();
    this.#recent.push(at);
    if (this.#recent.length > RECENT_MAX) this.#recent.shift();
    return { f: 'write', ...at, writeId: `${this.#config.id}/${requestId}` };
  }

  #issue(): void {
    if (this.#ops <= 0) return;
    this.#ops--;
    const env = this.#env;
    const requestId = env.mintId(`${this.#config.id}-io`);
    const op = this.#pickOp(requestId);
    this.#inFlight.set(requestId, op);
    if (!(this.#inFlight.size <= DEPTH_MAX)) panic(`guest: ${this.#inFlight.size} requests in flight, above ${DEPTH_MAX}`);
    this.history.push({ type: 'invoke', opId: requestId, op, atMs: env.now() });
    env.send(this.#config.upstairs, requestOf(requestId, op));
    env.setTimer(this.#config.timeoutMs, { type: 'Timeout', requestId } satisfies Tag);
    // Now and then a second request right behind the first, before it is answered.
    if (this.#inFlight.size < DEPTH_MAX && env.choose('guest.overlap', 3) === 2) this.#scheduleNext(between(env, 'guest.overlapMs', 0, OVERLAP_MS_MAX));
  }

  #finished(requestId: string, event: GuestEvent): void {
    // Each request ends once in the history: answered, failed, or given up (the oracle's register reads it).
    const wasInFlight = this.#inFlight.delete(requestId);
    if (!(wasInFlight && event.opId === requestId)) panic(`guest: request ${requestId} ended twice or never began`);
    this.history.push(event);
    this.#scheduleNext(this.#think());
  }

  onMessage(_env: Env, _from: NodeId, message: unknown): void {
    const reply = message as UpstairsReply;
    if (reply.type !== 'GuestReply' || !this.#inFlight.has(reply.requestId)) return;
    const op = this.#inFlight.get(reply.requestId)!;
    const atMs = this.#env.now();
    if (!reply.ok) return this.#finished(reply.requestId, { type: 'fail', opId: reply.requestId, error: reply.error ?? 'failed', atMs });
    const value = op.f === 'read' ? (reply.data?.writeId ?? null) : null;
    this.#finished(reply.requestId, { type: 'ok', opId: reply.requestId, epoch: epochOf(reply), value, atMs });
  }

  onTimer(_env: Env, tag: unknown): void {
    const t = tag as Tag;
    if (t.type === 'Next') {
      this.#nextSet = false;
      if (this.#inFlight.size >= DEPTH_MAX) return; // a completion schedules the next
      return this.#issue();
    }
    // Given up: its outcome is unknown (it may still land, now or much later).
    if (this.#inFlight.has(t.requestId)) this.#finished(t.requestId, { type: 'info', opId: t.requestId, atMs: this.#env.now() });
  }
}

function requestOf(requestId: string, op: GuestOp): UpstairsRequest {
  switch (op.f) {
    case 'write':
      return { type: 'GuestWrite', requestId, extent: op.extent, block: op.block, writeId: op.writeId };
    case 'read':
      return { type: 'GuestRead', requestId, extent: op.extent, block: op.block };
    case 'flush':
      return { type: 'GuestFlush', requestId };
  }
}
