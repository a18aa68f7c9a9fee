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
// Fault model: a downstairs may crash and restart (its region is durable, flushed or not: a
// crash here keeps dirty writes, as the extent files keep what was written; its connections,
// the active one included, the highest generation promoted and the extents live repair had
// closed are lost), be partitioned from an upstairs, or lose a message on a connection, which
// breaks it (the gap in the sequence numbers is noticed, the connection closed, the upstairs
// reconnects). A link is one TCP connection: never reordered, and a frame out of sequence
// (duplicated or overtaken, were the network to do it) breaks the connection the same way.
// Messages may be late: a frame of a connection already closed is dropped. An upstairs that
// dies or is cut off falls silent: its connection is dropped after `idleMsMax`; one that
// restarts comes back as another session on a new connection (the old one stays until silent),
// and an upstairs from the past may ask for a generation another has since passed (refused). A
// peer's repair server may crash or be cut off mid-fetch (the repair fails, and says so), and
// the connection that asked for it may be gone when the fetch ends (the answer is not sent).
//
// Our addition (not found in the source): a read-write downstairs also refuses a generation below
// the highest it has promoted since it booted. Without it the takeover sweep finds an old upstairs,
// reconnecting as Offline, promoted again in the moment the new one's connection is down (C-I1,
// crucible-takeover seed 4399 before the change).
//
// Bug switch crucible/accept-equal-generation: a promotion at the active generation from another
// session is accepted beside the active one, which is not told (a planted fault: two upstairs
// active at one generation, the split brain the generation rules exist to prevent).

import { panic, panicUnless } from '../../assert.ts';
import type { Bugs, Env, Flow, NodeDef, NodeId, Process } from '../../../ports/index.ts';
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
    boot: (env, durable): DownstairsProcess => new Downstairs(env, config, durable.region, acceptEqual),
  };
}

type PromoteToActive = Extract<UpstairsMessage, { type: 'PromoteToActive' }>;
type IoMessage = Exclude<UpstairsMessage, { type: 'HereIAm' | 'PromoteToActive' | 'RegionInfoPlease' | 'ExtentVersionsPlease' | 'LastFlush' | 'Ruok' }>;
type LiveRepairMessage = Extract<UpstairsMessage, { type: 'ExtentLiveFlushClose' | 'ExtentLiveClose' | 'ExtentLiveRepair' | 'ExtentLiveNoOp' | 'ExtentLiveReopen' }>;

/** One downstairs process: its region (durable), its connections and the active one (volatile). */
class Downstairs implements DownstairsProcess {
  readonly region: Region;
  readonly connections = new Map<string, DsConnection>();
  readonly #env: Env;
  readonly #config: DownstairsConfig;
  readonly #acceptEqual: boolean;
  #active: DsConnection | null = null;
  /** The highest generation promoted since boot. */
  #highestGen = 0;
  /** Extents closed by live repair, until reopened. */
  readonly #closed = new Set<number>();
  /** Accepted beside the active connection by the planted bug only. */
  readonly #alsoActive = new Set<DsConnection>();

  constructor(env: Env, config: DownstairsConfig, region: Region, acceptEqual: boolean) {
    if (region.extents.length !== config.region.extentCount) panic(`downstairs ${config.id}: its region has ${region.extents.length} extents, not ${config.region.extentCount}`);
    this.#env = env;
    this.#config = config;
    this.region = region;
    this.#acceptEqual = acceptEqual;
    env.setTimer(config.idleMsMax, IDLE_CHECK);
  }

  active(): readonly DsConnection[] {
    return this.#active === null ? [...this.#alsoActive] : [this.#active, ...this.#alsoActive];
  }

  #send(c: DsConnection, message: DownstairsMessage): void {
    if (this.connections.get(c.conn) !== c) panic(`downstairs: a frame on ${c.conn}, not an open connection`); // hot: the message is built only on failure
    this.#env.send(c.node, { type: 'Frame', conn: c.conn, seq: ++c.outSeq, message } satisfies Framed<DownstairsMessage>);
  }

  /** Forget a connection, silently: nobody is told. */
  #drop(c: DsConnection): void {
    this.connections.delete(c.conn);
    if (this.#active === c) this.#active = null;
    this.#alsoActive.delete(c);
    panicUnless(!this.connections.has(c.conn) && this.#active !== c, 'downstairs: a dropped connection kept');
  }

  #close(c: DsConnection, reason: string): void {
    this.#send(c, { type: 'Closed', reason });
    this.#drop(c);
  }

  /** The peer died or cannot reach us: drop silently (nobody is there to tell). */
  onTimer(): void {
    for (const c of [...this.connections.values()]) {
      if (this.#env.now() - c.heardMs <= this.#config.idleMsMax) continue;
      this.#drop(c);
    }
    this.#checkConnections();
    this.#env.setTimer(this.#config.idleMsMax, IDLE_CHECK);
  }

  onMessage(_env: Env, from: NodeId, message: unknown): void {
    const frame = message as Framed<UpstairsMessage>;
    const m = frame.message;
    if (m.type === 'HereIAm') return this.#hereIAm(from, frame.conn, frame.seq, m);
    const c = this.connections.get(frame.conn);
    if (c === undefined || c.node !== from) return; // a closed connection's stragglers
    c.heardMs = this.#env.now();
    if (frame.seq !== c.inSeq + 1) return this.#close(c, 'connection broke (a message was lost)');
    c.inSeq = frame.seq;
    this.#handle(c, m);
    this.#checkConnections();
  }

  /**
   * What every handler leaves true. Read-write: a connection is past ConnectedToUpstairs exactly
   * when it is the active one (or, by the planted bug, beside it), and the active one holds the
   * highest generation promoted. Read-only: no connection is ever the active one.
   */
  #checkConnections(): void {
    const active = this.#active;
    if (this.#config.readOnly) panicUnless(active === null && this.#alsoActive.size === 0, 'downstairs: a read-only region with an active connection');
    if (active !== null && (this.connections.get(active.conn) !== active || active.gen !== this.#highestGen)) panic(`downstairs ${this.#config.id}: active connection ${active.conn} at ${active.gen} is not open at the highest generation ${this.#highestGen}`);
    panicUnless(this.#acceptEqual || this.#alsoActive.size === 0, 'downstairs: a second active connection without the planted bug');
    for (const c of this.#alsoActive) panicUnless(this.connections.get(c.conn) === c, 'downstairs: a connection beside the active one is not open');
    if (this.#config.readOnly) return;
    for (const c of this.connections.values()) {
      const promoted = c.state !== 'ConnectedToUpstairs';
      if (promoted !== (c === active || this.#alsoActive.has(c))) panic(`downstairs ${this.#config.id}: connection ${c.conn} is ${c.state}, ${promoted ? 'not ' : ''}active`);
    }
  }

  /** A new connection: the version and read-only checks of negotiation, then YesItsMe. */
  #hereIAm(from: NodeId, conn: string, seq: number, m: Extract<UpstairsMessage, { type: 'HereIAm' }>): void {
    for (const old of this.connections.values()) {
      // The same upstairs session reconnecting has given its old connection up. One from
      // a process that restarted (another session) stays until it falls silent.
      if (old.node !== from || old.sessionId !== m.sessionId) continue;
      this.#drop(old);
    }
    const c: DsConnection = { node: from, conn, inSeq: seq, outSeq: 0, state: 'ConnectedToUpstairs', upstairsId: m.upstairsId, sessionId: m.sessionId, gen: m.gen, readOnly: m.readOnly, heardMs: this.#env.now() };
    this.connections.set(conn, c);
    for (const other of this.connections.values()) panicUnless(other === c || other.node !== from || other.sessionId !== m.sessionId, 'downstairs: two connections from one upstairs session');
    if (m.version !== CRUCIBLE_VERSION) {
      this.#send(c, { type: 'VersionMismatch', version: CRUCIBLE_VERSION });
      return this.#close(c, 'VersionMismatch');
    }
    if (m.readOnly !== this.#config.readOnly) {
      this.#send(c, { type: 'ReadOnlyMismatch' });
      return this.#close(c, 'ReadOnlyMismatch');
    }
    this.#send(c, { type: 'YesItsMe', version: CRUCIBLE_VERSION });
    this.#checkConnections();
  }

  #handle(c: DsConnection, m: UpstairsMessage): void {
    switch (m.type) {
      case 'HereIAm':
        return; // only as a connection's first message
      case 'PromoteToActive':
        return this.#promote(c, m);
      case 'RegionInfoPlease':
        return this.#negotiate(c, 'PromotedToActive', 'SentRegionInfo', { type: 'RegionInfo', region: this.region.definition });
      case 'ExtentVersionsPlease':
        return this.#negotiate(c, 'SentRegionInfo', 'Running', { type: 'ExtentVersions', ...extentVersions(this.region) });
      case 'LastFlush':
        // No answer (message version 13 removed LastFlushAck): the replay follows at once.
        return this.#negotiate(c, 'SentRegionInfo', 'Running', null);
      case 'Ruok':
        return this.#send(c, { type: 'Imok' });
      default:
        return this.#io(c, m);
    }
  }

  /** One step of negotiation after promotion: from `expected` to `next`, else the connection is closed. */
  #negotiate(c: DsConnection, expected: DsConnState, next: DsConnState, answer: DownstairsMessage | null): void {
    if (c.state !== expected) return this.#close(c, 'BadNegotiationOrder');
    panicUnless(this.#config.readOnly || this.#active === c || this.#alsoActive.has(c), 'downstairs: negotiation goes on for a connection that is not active');
    c.state = next;
    if (answer !== null) this.#send(c, answer);
  }

  #promote(c: DsConnection, m: PromoteToActive): void {
    if (c.state !== 'ConnectedToUpstairs') return; // out of order: dropped
    if (m.upstairsId !== c.upstairsId || m.sessionId !== c.sessionId) {
      this.#send(c, { type: 'UuidMismatch', expected: c.upstairsId });
      return this.#close(c, 'UuidMismatch');
    }
    const readOnly = this.#config.readOnly;
    if (!readOnly && m.gen < this.#highestGen) return this.#close(c, `generation ${m.gen} below ${this.#highestGen}, promoted before`);
    if (!readOnly && this.#active !== null && this.#active !== c && !this.#takeOver(c, this.#active, m)) return;
    panicUnless(this.connections.get(c.conn) === c && c.state === 'ConnectedToUpstairs', 'downstairs: promoting a connection no longer waiting for it');
    c.gen = m.gen;
    c.state = 'PromotedToActive';
    if (readOnly) this.#replaceReadOnlySession(c, m);
    if (!readOnly) {
      this.#active = c;
      this.#highestGen = Math.max(this.#highestGen, m.gen);
      this.#closed.clear(); // promote_to_active re-opens any closed extents
      if (this.#active.gen !== this.#highestGen) panic(`downstairs: the active connection is at ${c.gen}, below ${this.#highestGen}`);
    }
    panicUnless(c.gen === m.gen && c.state === 'PromotedToActive' && (readOnly || this.#active === c), 'downstairs: a promotion that did not make the connection active');
    this.#send(c, { type: 'YouAreNowActive', upstairsId: m.upstairsId, sessionId: m.sessionId, gen: m.gen });
  }

  /**
   * Another connection is active: an equal generation from another session is refused (or, the
   * planted bug, accepted beside it), a higher one takes over and the old one is told and
   * dropped with everything it had queued. Whether the promotion goes on as usual.
   */
  #takeOver(c: DsConnection, active: DsConnection, m: PromoteToActive): boolean {
    // #promote refused generations below the highest promoted, which the active one holds.
    panicUnless(active !== c && m.gen >= active.gen && active.state !== 'ConnectedToUpstairs', 'downstairs: a takeover by a lower generation, or of a connection not active');
    const same = active.upstairsId === m.upstairsId && active.sessionId === m.sessionId && active.gen === m.gen;
    if (m.gen === active.gen && !same && !this.#acceptEqual) {
      this.#close(c, `generation ${m.gen} already active for another session`);
      return false;
    }
    if (m.gen === active.gen && !same) {
      this.#alsoActive.add(c); // the planted bug: both stay active
      c.gen = m.gen;
      c.state = 'PromotedToActive';
      this.#send(c, { type: 'YouAreNowActive', upstairsId: m.upstairsId, sessionId: m.sessionId, gen: m.gen });
      return false;
    }
    if (m.gen > active.gen) {
      this.#send(active, { type: 'YouAreNoLongerActive', newUpstairsId: m.upstairsId, newSessionId: m.sessionId, newGen: m.gen });
      this.connections.delete(active.conn); // dropped, with everything it had queued
      this.#active = null;
    }
    panicUnless(this.#active === null || same, 'downstairs: a takeover left another connection active');
    return true;
  }

  /** Read-only: the same upstairs promoted from a new session replaces its old one (on_new_connection_replacing). */
  #replaceReadOnlySession(c: DsConnection, m: PromoteToActive): void {
    for (const old of [...this.connections.values()]) {
      if (old === c || old.upstairsId !== m.upstairsId || old.state === 'ConnectedToUpstairs') continue;
      this.#send(old, { type: 'YouAreNoLongerActive', newUpstairsId: m.upstairsId, newSessionId: m.sessionId, newGen: m.gen });
      this.connections.delete(old.conn);
    }
    panicUnless(this.connections.get(c.conn) === c, 'downstairs: a read-only session replaced itself');
  }

  /** IO and reconciliation run only for the active (or read-only), Running connection. */
  #io(c: DsConnection, m: IoMessage): void {
    if (c.state !== 'Running' || (!this.#config.readOnly && this.#active !== c && !this.#alsoActive.has(c))) return this.#close(c, 'IO from a connection that is not the active one');
    const region = this.region;
    switch (m.type) {
      case 'Write':
        this.#assertOpen(m.extent, m.jobId);
        writeBlock(region, m.extent, m.block, m.data);
        return this.#send(c, { type: 'WriteAck', jobId: m.jobId });
      case 'Read':
        this.#assertOpen(m.extent, m.jobId);
        return this.#send(c, { type: 'ReadResponse', jobId: m.jobId, data: readBlock(region, m.extent, m.block) });
      case 'Flush':
        if (!(m.extentLimit === null || (m.extentLimit >= 0 && m.extentLimit < region.extents.length))) panic(`job ${m.jobId}: a flush limited to no extent ${m.extentLimit}`);
        flushRegion(region, m.flushNumber, m.gen, m.extentLimit);
        return this.#send(c, { type: 'FlushAck', jobId: m.jobId });
      case 'ExtentFlush':
        flushExtent(region, m.extent, m.flushNumber, m.gen);
        return this.#send(c, { type: 'RepairAckId', repairId: m.repairId });
      case 'ExtentRepair':
        this.#env.spawn(`repair extent ${m.extent}`, this.#repairFrom(c, m.extent, m.source, (error) => (error === null ? { type: 'RepairAckId', repairId: m.repairId } : { type: 'ExtentError', repairId: m.repairId, error })));
        return;
      // Upstream closes and reopens the extent's files; the model keeps no file handles, so
      // these only take part in the exchange (a client lost between them aborts it).
      case 'ExtentClose':
      case 'ExtentReopen':
        return this.#send(c, { type: 'RepairAckId', repairId: m.repairId });
      default:
        return this.#liveRepair(c, m);
    }
  }

  /** Live repair's jobs: close (after a flush on a healthy client), repair or no-op, reopen. */
  #liveRepair(c: DsConnection, m: LiveRepairMessage): void {
    switch (m.type) {
      case 'ExtentLiveFlushClose':
      case 'ExtentLiveClose': {
        this.#assertOpen(m.extent, m.jobId);
        if (m.type === 'ExtentLiveFlushClose') flushExtent(this.region, m.extent, m.flushNumber, m.gen);
        this.#closed.add(m.extent);
        const { gen, flush, dirty } = this.region.extents[m.extent]!;
        return this.#send(c, { type: 'ExtentLiveCloseAck', jobId: m.jobId, gen, flush, dirty });
      }
      case 'ExtentLiveRepair':
        if (!this.#closed.has(m.extent)) panic(`job ${m.jobId}: ExtentLiveRepair of extent ${m.extent}, which is open`);
        if (m.source === this.#config.id) panic(`job ${m.jobId}: live repair of extent ${m.extent} from ourselves`);
        this.#env.spawn(`live repair extent ${m.extent}`, this.#repairFrom(c, m.extent, m.source, (error) => ({ type: 'ExtentLiveRepairAckId', jobId: m.jobId, error })));
        return;
      case 'ExtentLiveNoOp':
        return this.#send(c, { type: 'ExtentLiveAckId', jobId: m.jobId });
      case 'ExtentLiveReopen':
        if (!(m.extent >= 0 && m.extent < this.region.extents.length)) panic(`job ${m.jobId}: reopen of no extent ${m.extent}`);
        this.#closed.delete(m.extent);
        return this.#send(c, { type: 'ExtentLiveAckId', jobId: m.jobId });
    }
  }

  /** The upstairs orders its jobs so no IO reaches an extent live repair has closed. */
  #assertOpen(extent: number, jobId: number): void {
    if (!(extent >= 0 && extent < this.region.extents.length)) panic(`job ${jobId}: no extent ${extent}`);
    if (this.#closed.has(extent)) panic(`job ${jobId}: IO to extent ${extent}, closed for live repair`);
  }

  /** A repair: fetch the extent from the source's repair server and replace ours; `ack` says how to answer. */
  *#repairFrom(c: DsConnection, extent: number, source: string, ack: (error: string | null) => DownstairsMessage): Flow<void> {
    const r = yield* call<RepairReply>(source, { type: 'ExtentFetch', extent } satisfies RepairRequest, 500);
    if (this.connections.get(c.conn) !== c) return;
    if (!r.ok || r.reply.type !== 'ExtentData') return this.#send(c, ack('source unavailable'));
    if (!(r.reply.blocks.length === this.region.extents[extent]!.blocks.length)) panic(`repair of extent ${extent}: ${r.reply.blocks.length} blocks from ${source}`);
    replaceExtent(this.region, extent, r.reply);
    this.#send(c, ack(null));
  }

  /** The repair endpoint: a whole extent, for a peer downstairs repairing from this one. */
  onCall(_env: Env, _from: NodeId, request: unknown): RepairReply {
    const r = request as RepairRequest;
    if (r.extent < 0 || r.extent >= this.region.extents.length) return { type: 'ExtentUnavailable' };
    return { type: 'ExtentData', ...extentData(this.region, r.extent) };
  }
}
