// A Crucible downstairs (downstairs/src/lib.rs): one region, served to upstairs connections.
// A connection goes ConnectedToUpstairs (HereIAm answered) -> PromotedToActive -> SentRegionInfo
// -> Running. For a read-write region at most one connection is active: PromoteToActive at a
// lower generation than the active one is refused by closing the connection; at an equal one only
// from the very same session; at a higher one the new upstairs takes over and the old connection
// is told YouAreNoLongerActive and dropped with everything it had queued. IO runs only for the
// active, Running connection. The repair endpoint serves whole extents to peer downstairs.
// Live repair closes an extent (ExtentLiveClose, or ExtentLiveFlushClose on a healthy client,
// which flushes it first), repairs it or does nothing, and reopens it; the upstairs orders its
// jobs so that no IO reaches a closed extent, and we assert it (upstream would fail the IO).
// A restart reopens every extent, as a new process opens the region.
//
// Our addition (not found in the source): a read-write downstairs also refuses a generation below
// the highest it has promoted since it booted. Without it the takeover sweep finds an old upstairs,
// reconnecting as Offline, promoted again in the moment the new one's connection is down (C-I1,
// crucible-takeover seed 4399 before the change).
//
// Bug switch crucible/accept-equal-generation: a promotion at the active generation from another
// session is accepted beside the active one, which is not told (a planted fault: two upstairs
// active at one generation, the split brain the generation rules exist to prevent).

import { panicUnless } from '../../assert.ts';
import type { Bugs, Env, NodeDef, NodeId, Process } from '../../../ports/index.ts';
import { CRUCIBLE_VERSION, type DownstairsMessage, type Framed, type RegionDefinition, type RepairReply, type RepairRequest, type UpstairsMessage } from '../protocol.ts';
import { extentData, extentVersions, flushExtent, flushRegion, newRegion, readBlock, replaceExtent, writeBlock, type Region } from './region.ts';
import { call } from '../../../ports/index.ts';

export type DsConnState = 'ConnectedToUpstairs' | 'PromotedToActive' | 'SentRegionInfo' | 'Running';

export interface DsConnection {
  readonly node: NodeId;
  readonly conn: string;
  inSeq: number;
  outSeq: number;
  state: DsConnState;
  readonly upstairsId: string;
  readonly sessionId: string;
  gen: number;
  readonly readOnly: boolean;
  /** Virtual time of the last frame received: a connection silent for `idleMsMax` is dead. */
  heardMs: number;
}

export interface DownstairsProcess extends Process {
  readonly region: Region;
  /** The connections that may write (read-write region): one at most, but for the planted bug. */
  readonly active: () => readonly DsConnection[];
  /** Open connections, by connection id. */
  readonly connections: ReadonlyMap<string, DsConnection>;
}

const IDLE_CHECK = { type: 'IdleCheck' } as const;

export interface DownstairsConfig {
  readonly id: NodeId;
  readonly region: RegionDefinition;
  readonly readOnly: boolean;
  /** A connection that sends nothing (not even Ruok) for this long is dropped. */
  readonly idleMsMax: number;
}

export function downstairs(config: DownstairsConfig, bugs: Bugs): NodeDef<{ region: Region }> {
  const acceptEqual = bugs.has('crucible/accept-equal-generation');
  return {
    id: config.id,
    initDurable: () => ({ region: newRegion(config.region) }),
    boot(env: Env, durable): DownstairsProcess {
      const region = durable.region;
      const conns = new Map<string, DsConnection>();
      let active: DsConnection | null = null;
      let highestGen = 0; // promoted since boot
      /** Extents closed by live repair, until reopened. */
      const closed = new Set<number>();
      /** Accepted beside `active` by the planted bug only. */
      const alsoActive = new Set<DsConnection>();

      const send = (c: DsConnection, message: DownstairsMessage): void => {
        env.send(c.node, { type: 'Frame', conn: c.conn, seq: ++c.outSeq, message } satisfies Framed<DownstairsMessage>);
      };
      const close = (c: DsConnection, reason: string): void => {
        send(c, { type: 'Closed', reason });
        conns.delete(c.conn);
        if (active === c) active = null;
        alsoActive.delete(c);
      };

      const promote = (c: DsConnection, m: Extract<UpstairsMessage, { type: 'PromoteToActive' }>): void => {
        if (c.state !== 'ConnectedToUpstairs') return; // out of order: dropped
        if (m.upstairsId !== c.upstairsId || m.sessionId !== c.sessionId) {
          send(c, { type: 'UuidMismatch', expected: c.upstairsId });
          return close(c, 'UuidMismatch');
        }
        if (!config.readOnly && m.gen < highestGen) return close(c, `generation ${m.gen} below ${highestGen}, promoted before`);
        if (!config.readOnly && active !== null && active !== c) {
          const same = active.upstairsId === m.upstairsId && active.sessionId === m.sessionId && active.gen === m.gen;
          if (m.gen === active.gen && !same && !acceptEqual) return close(c, `generation ${m.gen} already active for another session`);
          if (m.gen === active.gen && !same) {
            alsoActive.add(c); // the planted bug: both stay active
            c.gen = m.gen;
            c.state = 'PromotedToActive';
            return send(c, { type: 'YouAreNowActive', upstairsId: m.upstairsId, sessionId: m.sessionId, gen: m.gen });
          }
          if (m.gen > active.gen) {
            const old = active;
            send(old, { type: 'YouAreNoLongerActive', newUpstairsId: m.upstairsId, newSessionId: m.sessionId, newGen: m.gen });
            conns.delete(old.conn); // dropped, with everything it had queued
            active = null;
          }
        }
        c.gen = m.gen;
        c.state = 'PromotedToActive';
        if (config.readOnly) replaceReadOnlySession(c, m);
        if (!config.readOnly) {
          active = c;
          highestGen = Math.max(highestGen, m.gen);
          closed.clear(); // promote_to_active re-opens any closed extents
        }
        send(c, { type: 'YouAreNowActive', upstairsId: m.upstairsId, sessionId: m.sessionId, gen: m.gen });
      };

      /** Read-only: the same upstairs promoted from a new session replaces its old one (on_new_connection_replacing). */
      function replaceReadOnlySession(c: DsConnection, m: Extract<UpstairsMessage, { type: 'PromoteToActive' }>): void {
        for (const old of [...conns.values()]) {
          if (old === c || old.upstairsId !== m.upstairsId || old.state === 'ConnectedToUpstairs') continue;
          send(old, { type: 'YouAreNoLongerActive', newUpstairsId: m.upstairsId, newSessionId: m.sessionId, newGen: m.gen });
          conns.delete(old.conn);
        }
      }

      function handle(c: DsConnection, m: UpstairsMessage): void {
        switch (m.type) {
          case 'HereIAm':
            return; // only as a connection's first message
          case 'PromoteToActive':
            return promote(c, m);
          case 'RegionInfoPlease':
            if (c.state !== 'PromotedToActive') return close(c, 'BadNegotiationOrder');
            c.state = 'SentRegionInfo';
            return send(c, { type: 'RegionInfo', region: region.definition });
          case 'ExtentVersionsPlease':
            if (c.state !== 'SentRegionInfo') return close(c, 'BadNegotiationOrder');
            c.state = 'Running';
            return send(c, { type: 'ExtentVersions', ...extentVersions(region) });
          case 'LastFlush':
            // No answer (message version 13 removed LastFlushAck): the replay follows at once.
            if (c.state !== 'SentRegionInfo') return close(c, 'BadNegotiationOrder');
            c.state = 'Running';
            return;
          case 'Ruok':
            return send(c, { type: 'Imok' });
          default:
            return io(c, m);
        }
      }

      /** IO and reconciliation run only for the active (or read-only), Running connection. */
      function io(c: DsConnection, m: Exclude<UpstairsMessage, { type: 'HereIAm' | 'PromoteToActive' | 'RegionInfoPlease' | 'ExtentVersionsPlease' | 'LastFlush' | 'Ruok' }>): void {
        if (c.state !== 'Running' || (!config.readOnly && active !== c && !alsoActive.has(c))) return close(c, 'IO from a connection that is not the active one');
        switch (m.type) {
          case 'Write':
            assertOpen(m.extent, m.jobId);
            writeBlock(region, m.extent, m.block, m.data);
            return send(c, { type: 'WriteAck', jobId: m.jobId });
          case 'Read':
            assertOpen(m.extent, m.jobId);
            return send(c, { type: 'ReadResponse', jobId: m.jobId, data: readBlock(region, m.extent, m.block) });
          case 'Flush':
            flushRegion(region, m.flushNumber, m.gen, m.extentLimit);
            return send(c, { type: 'FlushAck', jobId: m.jobId });
          case 'ExtentFlush':
            flushExtent(region, m.extent, m.flushNumber, m.gen);
            return send(c, { type: 'RepairAckId', repairId: m.repairId });
          case 'ExtentRepair':
            env.spawn(`repair extent ${m.extent}`, repairFrom(c, m.extent, m.source, (error) => (error === null ? { type: 'RepairAckId', repairId: m.repairId } : { type: 'ExtentError', repairId: m.repairId, error })));
            return;
          // Upstream closes and reopens the extent's files; the model keeps no file handles, so
          // these only take part in the exchange (a client lost between them aborts it).
          case 'ExtentClose':
          case 'ExtentReopen':
            return send(c, { type: 'RepairAckId', repairId: m.repairId });
          default:
            return liveRepair(c, m);
        }
      }

      /** Live repair's jobs: close (after a flush on a healthy client), repair or no-op, reopen. */
      function liveRepair(c: DsConnection, m: Extract<UpstairsMessage, { type: 'ExtentLiveFlushClose' | 'ExtentLiveClose' | 'ExtentLiveRepair' | 'ExtentLiveNoOp' | 'ExtentLiveReopen' }>): void {
        switch (m.type) {
          case 'ExtentLiveFlushClose':
          case 'ExtentLiveClose': {
            assertOpen(m.extent, m.jobId);
            if (m.type === 'ExtentLiveFlushClose') flushExtent(region, m.extent, m.flushNumber, m.gen);
            closed.add(m.extent);
            const { gen, flush, dirty } = region.extents[m.extent]!;
            return send(c, { type: 'ExtentLiveCloseAck', jobId: m.jobId, gen, flush, dirty });
          }
          case 'ExtentLiveRepair':
            panicUnless(closed.has(m.extent), `job ${m.jobId}: ExtentLiveRepair of extent ${m.extent}, which is open`);
            env.spawn(`live repair extent ${m.extent}`, repairFrom(c, m.extent, m.source, (error) => ({ type: 'ExtentLiveRepairAckId', jobId: m.jobId, error })));
            return;
          case 'ExtentLiveNoOp':
            return send(c, { type: 'ExtentLiveAckId', jobId: m.jobId });
          case 'ExtentLiveReopen':
            closed.delete(m.extent);
            return send(c, { type: 'ExtentLiveAckId', jobId: m.jobId });
        }
      }

      /** The upstairs orders its jobs so no IO reaches an extent live repair has closed. */
      function assertOpen(extent: number, jobId: number): void {
        panicUnless(!closed.has(extent), `job ${jobId}: IO to extent ${extent}, closed for live repair`);
      }

      /** A repair: fetch the extent from the source's repair server and replace ours; `ack` says how to answer. */
      function* repairFrom(c: DsConnection, extent: number, source: string, ack: (error: string | null) => DownstairsMessage) {
        const r = yield* call<RepairReply>(source, { type: 'ExtentFetch', extent } satisfies RepairRequest, 500);
        if (conns.get(c.conn) !== c) return;
        if (!r.ok || r.reply.type !== 'ExtentData') return send(c, ack('source unavailable'));
        replaceExtent(region, extent, r.reply);
        send(c, ack(null));
      }

      env.setTimer(config.idleMsMax, IDLE_CHECK);
      return {
        region,
        active: () => (active === null ? [...alsoActive] : [active, ...alsoActive]),
        connections: conns,
        onTimer(): void {
          // The peer died or cannot reach us: drop silently (nobody is there to tell).
          for (const c of [...conns.values()]) {
            if (env.now() - c.heardMs <= config.idleMsMax) continue;
            conns.delete(c.conn);
            if (c === active) active = null;
            alsoActive.delete(c);
          }
          env.setTimer(config.idleMsMax, IDLE_CHECK);
        },
        onMessage(_env: Env, from: NodeId, message: unknown): void {
          const frame = message as Framed<UpstairsMessage>;
          const m = frame.message;
          if (m.type === 'HereIAm') {
            for (const old of conns.values()) {
              // The same upstairs session reconnecting has given its old connection up. One from
              // a process that restarted (another session) stays until it falls silent.
              if (old.node !== from || old.sessionId !== m.sessionId) continue;
              conns.delete(old.conn);
              if (old === active) active = null;
              alsoActive.delete(old);
            }
            const c: DsConnection = { node: from, conn: frame.conn, inSeq: frame.seq, outSeq: 0, state: 'ConnectedToUpstairs', upstairsId: m.upstairsId, sessionId: m.sessionId, gen: m.gen, readOnly: m.readOnly, heardMs: env.now() };
            conns.set(frame.conn, c);
            if (m.version !== CRUCIBLE_VERSION) {
              send(c, { type: 'VersionMismatch', version: CRUCIBLE_VERSION });
              return close(c, 'VersionMismatch');
            }
            if (m.readOnly !== config.readOnly) {
              send(c, { type: 'ReadOnlyMismatch' });
              return close(c, 'ReadOnlyMismatch');
            }
            return send(c, { type: 'YesItsMe', version: CRUCIBLE_VERSION });
          }
          const c = conns.get(frame.conn);
          if (c === undefined || c.node !== from) return; // a closed connection's stragglers
          c.heardMs = env.now();
          if (frame.seq !== c.inSeq + 1) return close(c, 'connection broke (a message was lost)');
          c.inSeq = frame.seq;
          handle(c, m);
        },
        onCall(_env: Env, _from: NodeId, request: unknown): RepairReply {
          const r = request as RepairRequest;
          if (r.extent < 0 || r.extent >= region.extents.length) return { type: 'ExtentUnavailable' };
          return { type: 'ExtentData', ...extentData(region, r.extent) };
        },
      };
    },
  };
}
