// A guest using an upstairs: it writes blocks, flushes and reads, one request at a time, each
// answered by the upstairs (or given up on after a timeout). It remembers every write it was told
// succeeded, and which of those a later successful flush made durable: the oracle holds the
// region to them.

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

export interface AckedWrite {
  readonly writeId: string;
  readonly extent: number;
  readonly block: number;
  /** Order of issue (virtual time, then count): a later write to a block supersedes an earlier one. */
  readonly issued: number;
  /** The upstairs incarnation that acknowledged it. */
  readonly sessionId: string;
  durable: boolean;
}

export interface GuestProcess extends Process {
  readonly acked: ReadonlyMap<string, AckedWrite>;
  readonly issued: ReadonlyMap<string, number>;
  readonly done: () => boolean;
}

type Tag = { readonly type: 'Next' } | { readonly type: 'Timeout'; readonly requestId: string };

export function guest(config: GuestConfig): NodeDef<null> {
  return {
    id: config.id,
    initDurable: () => null,
    boot(env: Env): GuestProcess {
      let counter = 0;
      // Writes are ordered by virtual time of issue (then by this guest's count): a later write
      // to a block supersedes an earlier one, whichever guest issued them.
      const order = (): number => env.now() * 1_000 + ++counter;
      const acked = new Map<string, AckedWrite>();
      const issued = new Map<string, number>();
      const sinceFlush: AckedWrite[] = [];
      let ops = between(env, 'guest.ops', 1, config.opsMax);
      let pending: { requestId: string; request: UpstairsRequest } | null = null;
      env.setTimer(config.startMs, { type: 'Next' } satisfies Tag);

      const next = (): void => {
        if (ops-- <= 0) return;
        const { extentCount, blocksPerExtent } = config.region;
        const requestId = env.mintId(`${config.id}-io`);
        const op = env.choose('guest.op', 4);
        let request: UpstairsRequest;
        if (op <= 1) {
          const writeId = `${config.id}/${requestId}`;
          issued.set(writeId, order());
          request = { type: 'GuestWrite', requestId, extent: env.choose('guest.extent', extentCount), block: env.choose('guest.block', blocksPerExtent), writeId };
        } else if (op === 2) request = { type: 'GuestFlush', requestId };
        else request = { type: 'GuestRead', requestId, extent: env.choose('guest.extent', extentCount), block: env.choose('guest.block', blocksPerExtent) };
        pending = { requestId, request };
        env.send(config.upstairs, request);
        env.setTimer(config.timeoutMs, { type: 'Timeout', requestId } satisfies Tag);
      };

      return {
        acked,
        issued,
        done: () => ops <= 0 && pending === null,
        onMessage(_env: Env, _from: NodeId, message: unknown): void {
          const reply = message as UpstairsReply;
          if (reply.type !== 'GuestReply' || pending === null || reply.requestId !== pending.requestId) return;
          const request = pending.request;
          pending = null;
          if (reply.ok && request.type === 'GuestWrite') {
            const w: AckedWrite = { writeId: request.writeId, extent: request.extent, block: request.block, issued: issued.get(request.writeId)!, sessionId: reply.sessionId, durable: false };
            acked.set(w.writeId, w);
            sinceFlush.push(w);
          }
          // A flush makes durable the writes acknowledged by the same upstairs incarnation; one
          // acknowledged by an upstairs that since restarted was never flushed (Propolis and its
          // upstairs are one process: a restart loses what it had not flushed).
          if (reply.ok && request.type === 'GuestFlush') for (const w of sinceFlush.splice(0)) w.durable = w.sessionId === reply.sessionId;
          env.setTimer(between(env, 'guest.thinkMs', 0, config.thinkMsMax), { type: 'Next' } satisfies Tag);
        },
        onTimer(_env: Env, tag: unknown): void {
          const t = tag as Tag;
          if (t.type === 'Next') return next();
          if (pending?.requestId === t.requestId) {
            pending = null; // given up: its outcome is unknown, so it is not counted as acked
            env.setTimer(between(env, 'guest.thinkMs', 0, config.thinkMsMax), { type: 'Next' } satisfies Tag);
          }
        },
      };
    },
  };
}
