// A guest using an upstairs: it writes blocks, flushes and reads, up to DEPTH_MAX requests at a
// time, each answered by the upstairs (or given up on after a timeout). Its IO is meant to make
// a data checker bite: writes land on blocks written a moment ago (overwrites), reads ask for
// blocks just written, flushes come between, and two requests are often in flight at once.
//
// It records its history the way Jepsen's clients do: each operation's invocation, then its
// completion, ok (with the epoch that answered and, for a read, the value), failed, or unknown
// (timed out). The oracle checks every read against that history (oracle/crucible-register.ts);
// the guest itself believes whatever it is told.

import { between, type Env, type NodeDef, type NodeId, type Process } from '../ports.ts';
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
  return {
    id: config.id,
    initDurable: () => null,
    boot(env: Env): GuestProcess {
      const history: GuestEvent[] = [];
      const inFlight = new Map<string, GuestOp>();
      const recent: Block[] = [];
      let ops = between(env, 'guest.ops', 1, config.opsMax);
      let nextSet = false;
      const scheduleNext = (delayMs: number): void => {
        if (nextSet || ops <= 0) return;
        nextSet = true;
        env.setTimer(delayMs, { type: 'Next' } satisfies Tag);
      };
      const think = (): number => between(env, 'guest.thinkMs', 0, config.thinkMsMax);
      scheduleNext(config.startMs);

      const anyBlock = (): Block => ({ extent: env.choose('guest.extent', config.region.extentCount), block: env.choose('guest.block', config.region.blocksPerExtent) });
      const recentBlock = (): Block => (recent.length === 0 ? anyBlock() : recent[env.choose('guest.recent', recent.length)]!);

      // Of six: a write anywhere (0), an overwrite of a block written lately (1, 5), a flush (2), a
      // read of a block written lately (3) or anywhere (4).
      const pickOp = (requestId: string): GuestOp => {
        const kind = env.choose('guest.op', 6);
        if (kind === 2) return { f: 'flush' };
        if (kind === 3 || kind === 4) return { f: 'read', ...(kind === 3 ? recentBlock() : anyBlock()) };
        const at = kind === 1 || kind === 5 ? recentBlock() : anyBlock();
        recent.push(at);
        if (recent.length > RECENT_MAX) recent.shift();
        return { f: 'write', ...at, writeId: `${config.id}/${requestId}` };
      };

      const issue = (): void => {
        if (ops <= 0) return;
        ops--;
        const requestId = env.mintId(`${config.id}-io`);
        const op = pickOp(requestId);
        inFlight.set(requestId, op);
        history.push({ type: 'invoke', opId: requestId, op, atMs: env.now() });
        env.send(config.upstairs, requestOf(requestId, op));
        env.setTimer(config.timeoutMs, { type: 'Timeout', requestId } satisfies Tag);
        // Now and then a second request right behind the first, before it is answered.
        if (inFlight.size < DEPTH_MAX && env.choose('guest.overlap', 3) === 2) scheduleNext(between(env, 'guest.overlapMs', 0, OVERLAP_MS_MAX));
      };

      const finished = (requestId: string, event: GuestEvent): void => {
        inFlight.delete(requestId);
        history.push(event);
        scheduleNext(think());
      };

      return {
        history,
        done: () => ops <= 0 && inFlight.size === 0,
        onMessage(_env: Env, _from: NodeId, message: unknown): void {
          const reply = message as UpstairsReply;
          if (reply.type !== 'GuestReply' || !inFlight.has(reply.requestId)) return;
          const op = inFlight.get(reply.requestId)!;
          const atMs = env.now();
          if (!reply.ok) return finished(reply.requestId, { type: 'fail', opId: reply.requestId, error: reply.error ?? 'failed', atMs });
          const value = op.f === 'read' ? (reply.data?.writeId ?? null) : null;
          finished(reply.requestId, { type: 'ok', opId: reply.requestId, epoch: epochOf(reply), value, atMs });
        },
        onTimer(_env: Env, tag: unknown): void {
          const t = tag as Tag;
          if (t.type === 'Next') {
            nextSet = false;
            if (inFlight.size >= DEPTH_MAX) return; // a completion schedules the next
            return issue();
          }
          // Given up: its outcome is unknown (it may still land, now or much later).
          if (inFlight.has(t.requestId)) finished(t.requestId, { type: 'info', opId: t.requestId, atMs: env.now() });
        },
      };
    },
  };
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
