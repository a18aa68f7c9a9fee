// A Crucible upstairs (upstairs/src/{upstairs,client,downstairs}.rs): three DownstairsClients
// brought to agreement before the guest sees a byte, and kept there.
// - Activation (GoActiveWithGen) from Initializing or Disabled stores the generation and connects
//   the clients; each negotiates (HereIAm .. ExtentVersions) to WaitQuorum; with all three there,
//   collation and reconciliation (reconcile.ts), then Active and the one reply to the request.
// - A client that loses its connection reconnects: while Active as Offline (its jobs held and
//   replayed) or, past the hold limit, as Faulted (repaired from an Active peer).
// - set_disabled (#1721): on YouAreNoLongerActive, UuidMismatch, an incompatible session or a
//   collation refusal the upstairs becomes Disabled: every client stops (or stays parked in
//   WaitConnect) and a pending activation is answered with the error; only a new activation
//   leaves Disabled.
// Bug switch crucible/disable-one-client restores the pre-#1721 behaviour: only the offending
// client stops, the upstairs goes back to Initializing with the other two still running, and the
// pending activation reply is dropped.
// - Deactivate (only from Active): a final flush, then each client stops with Deactivated once it
//   has nothing in flight (one not Active stops at once, its jobs skipped); when all three are
//   parked in Connecting{WaitConnect, New} the upstairs is Initializing again and replies.
// - replace(old, new) (replace.ts) swaps one target; the targets are durable, as Nexus keeps the
//   VCR that a restarted Propolis is given.
// Bug switch crucible/replace-while-initializing restores crucible#1716: a GoActive that finds a
// client still Stopping(Replacing) (a replace just before activation) panics.
// - Live repair (live-repair.ts): a client back Faulted or Replaced is repaired extent by extent
//   from an Active peer while guest IO goes on; all three needing it are reconciled instead.
//   After every message and timer the upstairs moves the repair on and starts one if it can
//   (upstairs.rs ensure_downstairs_consistency).
// - Read-only (connect_ro_region_set, on_reconciliation_skipped): Active as soon as one client is
//   in WaitQuorum, the others join as they get there; no collation, reconciliation or live repair
//   (a client back Faulted is Active at once); a guest write is refused (ModifyingReadOnlyRegion)
//   and a guest flush acked at once.
//
// Fault model: the upstairs may crash (everything but its targets is lost: jobs, connections,
// the activation under way; it says Booted to the control plane and is activated again); a
// downstairs may crash, be cut off, or lose a message on a connection, which breaks it (a gap in
// the sequence numbers), and one that falls silent is found by the keep-alive (`deadAfterMs`);
// another upstairs may take the region set over at a higher generation (YouAreNoLongerActive);
// a reply to the control plane or the guest may be lost (they ask again). Every client
// transition is checked against the client state machine (states.ts), a panic if not allowed.

import { panic, panicUnless } from '../../assert.ts';
import { probe, type Bugs, type Env, type NodeDef, type NodeId, type Process } from '../../../ports/index.ts';
import { CRUCIBLE_VERSION, type DownstairsMessage, type ExtentVersionsBody, type Framed, type RegionDefinition, type UpstairsMessage } from '../protocol.ts';
import type { UpstairsReply, UpstairsRequest } from './control.ts';
import type { DownstairsClient, Upstairs } from './context.ts';
import { flushJob, inProgressFor, jobDone, jobFailed, skipClientJobs, skipHeldJobs, submit } from './io.ts';
import { checkLiveRepairStart, continueLiveRepair, type LiveRepairPorts } from './live-repair.ts';
import { collate, planReconciliation } from './reconcile.ts';
import { checkReplace } from './replace.ts';
import { checkTransition, connecting, describeDs, type ClientStopReason, type DsState } from './states.ts';

export interface UpstairsConfig {
  readonly id: NodeId;
  readonly upstairsId: string;
  readonly downstairs: readonly NodeId[];
  readonly region: RegionDefinition;
  readonly keepAliveMs: number;
  readonly deadAfterMs: number;
  /** Jobs an Offline client may have held before it is Faulted. */
  readonly holdMax: number;
  /** Told at every boot, so it can activate this upstairs again. */
  readonly control: NodeId;
  /** Tell `control` when a repair ends (as the real upstairs notifies Nexus); off in the Crucible scenarios. */
  readonly notifyRepairs?: boolean;
  /** A read-only upstairs (a snapshot, a read-only parent): Active with one client, no repairs, no writes. */
  readonly readOnly?: boolean;
}

export interface UpstairsProcess extends Process {
  readonly upstairs: Upstairs;
}

type GuestRequest = Extract<UpstairsRequest, { type: 'GuestWrite' | 'GuestRead' | 'GuestFlush' }>;

type Tag =
  | { readonly type: 'KeepAlive' }
  | { readonly type: 'Reconnect'; readonly client: number }
  | { readonly type: 'TaskStopped'; readonly client: number };

const RECONNECT_MS = 100;
const TASK_STOP_MS = 5;

/** What survives a restart: the targets of the VCR (Nexus hands the new Propolis the current one). */
export interface UpstairsDurable {
  readonly targets: NodeId[];
}

export function upstairs(config: UpstairsConfig, bugs: Bugs): NodeDef<UpstairsDurable> {
  return {
    id: config.id,
    initDurable: () => ({ targets: [...config.downstairs] }),
    boot: (env, durable): UpstairsProcess => new UpstairsNode(env, config, bugs, durable),
  };
}

/** One upstairs process: the Upstairs state (volatile but for the targets), and a method per event. */
class UpstairsNode implements UpstairsProcess {
  readonly upstairs: Upstairs;
  readonly #env: Env;
  readonly #config: UpstairsConfig;
  readonly #durable: UpstairsDurable;
  readonly #ports: LiveRepairPorts;
  /** crucible/disable-one-client: only the offending client stops (before #1721). */
  readonly #oneClient: boolean;
  /** crucible/replace-while-initializing: a GoActive that finds a client stopping panics (crucible#1716). */
  readonly #panicOnStopping: boolean;
  /** Who asked for the activation under way, and for the deactivation: their replies go there. */
  #activationFrom: NodeId = '';
  #deactivationFrom: NodeId = '';

  constructor(env: Env, config: UpstairsConfig, bugs: Bugs, durable: UpstairsDurable) {
    if (durable.targets.length !== 3) panic(`upstairs ${config.id}: ${durable.targets.length} targets, not three`);
    this.#env = env;
    this.#config = config;
    this.#durable = durable;
    this.#oneClient = bugs.has('crucible/disable-one-client');
    this.#panicOnStopping = bugs.has('crucible/replace-while-initializing');
    const up: Upstairs = {
      env,
      bugs,
      upstairsId: config.upstairsId,
      readOnly: config.readOnly === true,
      sessionId: env.mintId(`${config.id}-session`),
      region: config.region,
      state: { kind: 'Initializing' },
      gen: 0,
      clients: this.#durable.targets.map((address, index) => ({
        index,
        address,
        state: connecting('WaitConnect', 'New'),
        conn: null,
        outSeq: 0,
        inSeq: 0,
        lastHeardMs: 0,
        newestDoneActive: 0,
        regionId: null,
        versions: null,
      })),
      nextFlush: 0,
      nextJobId: 0,
      jobs: new Map(),
      queued: [],
      reconciliation: null,
      repair: null,
      answered: new Map(),
      log: (text) => env.log(text),
    };
    this.upstairs = up;
    env.setTimer(config.keepAliveMs, { type: 'KeepAlive' } satisfies Tag);
    env.send(config.control, { type: 'Booted' });
    this.#ports = {
      send: (client, message) => this.#send(client, message),
      setClient: (client, next) => this.#setClient(client, next),
      fault: (client, why) => {
        up.log(`client ${client.index}: faulted (${why})`);
        skipClientJobs(up, client); // fault_client skips its jobs first
        this.#stopClient(client, 'Fault');
      },
      notifyFinished: (targets, succeeded) => this.#notifyRepair('Live', targets, succeeded),
      probe: (name) => probe(env, name),
    };
  }

  onMessage(_env: Env, from: NodeId, message: unknown): void {
    this.#handleMessage(from, message);
    this.#ensureConsistency();
  }

  onTimer(_env: Env, tag: unknown): void {
    this.#handleTimer(tag as Tag);
    this.#ensureConsistency();
  }

  #send(client: DownstairsClient, message: UpstairsMessage): void {
    const env = this.#env;
    if (client.conn === null) return;
    env.send(client.address, { type: 'Frame', conn: client.conn, seq: ++client.outSeq, message } satisfies Framed<UpstairsMessage>);
  }

  #setClient(client: DownstairsClient, next: DsState): void {
    const up = this.upstairs;
    const was = client.state;
    checkTransition(client.index, was, next, up.state);
    up.log(`client ${client.index}: ${describeDs(was)} -> ${describeDs(next)}`);
    client.state = next;
  }

  #answer(requestId: string, node: NodeId, ok: boolean, error: string | null): void {
    const up = this.upstairs;
    const env = this.#env;
    up.answered.set(requestId, (up.answered.get(requestId) ?? 0) + 1);
    env.send(node, { type: 'ActivationReply', requestId, ok, error } satisfies UpstairsReply);
  }

  #connect(client: DownstairsClient): void {
    const up = this.upstairs;
    const env = this.#env;
    const config = this.#config;
    const mode = client.state.kind === 'Connecting' ? client.state.mode : 'New';
    client.conn = env.mintId(`${config.id}-conn`);
    client.outSeq = 0;
    client.inSeq = 0;
    client.lastHeardMs = env.now();
    client.versions = null;
    if (client.state.kind !== 'Connecting' || client.state.state !== 'Start') this.#setClient(client, connecting('Start', mode));
    this.#send(client, { type: 'HereIAm', version: CRUCIBLE_VERSION, upstairsId: up.upstairsId, sessionId: up.sessionId, gen: up.gen, readOnly: up.readOnly });
  }

  /** A client's IO task ended: pick its mode (client.rs reinitialize) and maybe reconnect. */
  #reinitialize(client: DownstairsClient): void {
    const up = this.upstairs;
    const env = this.#env;
    const config = this.#config;
    const s = client.state;
    const active = up.state.kind === 'Active';
    let mode = s.kind === 'Connecting' ? s.mode : 'New';
    // No replay while a live repair runs (downstairs.rs reinitialize: can_replay): Faulted.
    const canReplay = up.repair === null && inProgressFor(up, client).length <= config.holdMax;
    if (s.kind === 'Active') mode = canReplay ? 'Offline' : 'Faulted';
    else if (s.kind === 'LiveRepair') mode = 'Faulted';
    else if (s.kind === 'Stopping') {
      if (s.reason === 'Fault') mode = 'Faulted';
      else if (s.reason === 'Disabled' || s.reason === 'Deactivated') mode = 'New';
      else if (s.reason === 'NegotiationFailed') mode = active ? 'Faulted' : 'New';
      else mode = active ? 'Replaced' : 'New';
    }
    if (mode === 'Faulted') skipClientJobs(up, client);
    probe(env, `upstairs.client-back-as.${mode}`);
    client.conn = null;
    const autoConnect = up.state.kind === 'Active' || up.state.kind === 'GoActive';
    this.#setClient(client, connecting(autoConnect ? 'Start' : 'WaitConnect', mode));
    if (autoConnect) env.setTimer(RECONNECT_MS, { type: 'Reconnect', client: client.index } satisfies Tag);
    this.#progressDeactivation(); // a client lost while deactivating is stopped, not awaited
  }

  #stopClient(client: DownstairsClient, reason: ClientStopReason): void {
    const up = this.upstairs;
    const env = this.#env;
    const s = client.state;
    if (s.kind === 'Stopping') return;
    this.#setClient(client, { kind: 'Stopping', reason });
    client.conn = null;
    env.setTimer(TASK_STOP_MS, { type: 'TaskStopped', client: client.index } satisfies Tag);
    // A reconciling client's task ending aborts the reconciliation, e.g. a replace.
    if (s.kind === 'Connecting' && s.state === 'Reconcile' && up.reconciliation !== null) this.#abortReconciliation(`client ${client.index} stopped (${reason})`);
  }

  #setDisabled(offender: DownstairsClient, reason: string): void {
    const up = this.upstairs;
    const env = this.#env;
    if (this.#oneClient) {
      // Before #1721: only the offending client, back to Initializing, the reply dropped.
      up.log(`upstairs: client ${offender.index} disabled (${reason}); upstairs -> Initializing`);
      up.state = { kind: 'Initializing' };
      this.#stopClient(offender, 'Disabled');
      return;
    }
    const pending = up.state.kind === 'GoActive' ? up.state.requestId : null;
    const deactivating = up.state.kind === 'Deactivating' ? up.state.requestId : null;
    up.log(`upstairs: ${up.state.kind} -> Disabled(${reason})`);
    probe(env, `upstairs.disabled.${up.state.kind}.${/^[A-Za-z]+/.exec(reason)?.[0] ?? 'other'}`);
    up.state = { kind: 'Disabled', reason };
    up.reconciliation = null;
    this.#dropLiveRepair();
    if (pending !== null) this.#answer(pending, this.#activationFrom, false, reason);
    if (deactivating !== null) this.#answerDeactivate(deactivating, false, reason);
    for (const client of up.clients) {
      const s = client.state;
      if (s.kind === 'Connecting' && s.mode === 'New' && s.state === 'WaitConnect') continue;
      this.#stopClient(client, 'Disabled');
    }
    // set_disabled (#1721): every client stops, or stays parked, and nothing is left half done.
    panicUnless(up.state.kind === 'Disabled' && up.repair === null && up.reconciliation === null, 'upstairs: Disabled with a repair or a reconciliation left');
  }

  /** A connection is gone (closed, broken, or silent too long). */
  #connectionLost(client: DownstairsClient, why: string): void {
    const up = this.upstairs;
    const env = this.#env;
    up.log(`client ${client.index}: connection lost (${why})`);
    const s = client.state;
    if (s.kind === 'Stopping') return;
    if (s.kind === 'Connecting' && s.state === 'Reconcile') return this.#abortReconciliation(`client ${client.index} lost`);
    if (s.kind === 'Connecting') {
      client.conn = null;
      const autoConnect = up.state.kind === 'Active' || up.state.kind === 'GoActive';
      this.#setClient(client, connecting(autoConnect ? 'Start' : 'WaitConnect', s.mode));
      if (autoConnect) env.setTimer(RECONNECT_MS, { type: 'Reconnect', client: client.index } satisfies Tag);
      return;
    }
    this.#reinitialize(client);
  }

  #abortReconciliation(why: string): void {
    const up = this.upstairs;
    const env = this.#env;
    up.log(`upstairs: reconciliation aborted (${why})`);
    probe(env, 'upstairs.reconciliation.aborted');
    up.reconciliation = null;
    this.#notifyRepair('Reconciliation', this.#everyTarget(), false);
    for (const client of up.clients) {
      const s = client.state;
      if (s.kind === 'Connecting' && s.state === 'Reconcile') this.#stopClient(client, 'NegotiationFailed');
    }
  }

  #goActive(): void {
    const up = this.upstairs;
    const pending = up.state.kind === 'GoActive' ? up.state.requestId : null;
    for (const client of up.clients) this.#setClient(client, { kind: 'Active' });
    up.state = { kind: 'Active' };
    up.log(`upstairs: Active at generation ${up.gen}`);
    if (pending !== null) this.#answer(pending, this.#activationFrom, true, null);
    panicUnless(up.reconciliation === null && up.clients.every((c) => c.state.kind === 'Active'), 'upstairs: Active with a reconciliation under way or a client not Active');
    this.#drainQueued();
  }

  /** With all three in WaitQuorum: collate, then reconcile or go Active. */
  #tryCollate(): void {
    const up = this.upstairs;
    const env = this.#env;
    if (up.state.kind !== 'GoActive') return;
    if (!up.clients.every((c) => c.state.kind === 'Connecting' && c.state.state === 'WaitQuorum' && c.state.mode === 'New')) return;
    const result = collate(up, up.clients.map((c) => c.versions!));
    probe(env, `upstairs.collate.${result.kind}`);
    if (result.kind === 'Refused') return this.#setDisabled(up.clients[0]!, result.reason);
    if (result.kind === 'Ready') {
      up.nextFlush = result.maxFlush;
      return this.#goActive();
    }
    up.reconciliation = result.plan;
    for (const client of up.clients) this.#setClient(client, connecting('Reconcile', 'New'));
    this.#nextRepairStep();
  }

  // Reconciliation involves everyone (downstairs.rs notify_reconcile_finished): its notice names
  // all three targets, whichever extents each one needed.
  #everyTarget(): string[] {
    const up = this.upstairs;
    return up.clients.map((c) => c.address);
  }

  #notifyRepair(repairType: 'Reconciliation' | 'Live', targets: readonly string[], succeeded: boolean): void {
    const env = this.#env;
    const config = this.#config;
    if (config.notifyRepairs === true) env.send(config.control, { type: 'RepairFinished', repairType, targets, succeeded } satisfies UpstairsReply);
  }

  #nextRepairStep(): void {
    const up = this.upstairs;
    const plan = up.reconciliation;
    if (plan === null) return;
    const step = plan.steps.shift();
    if (step === undefined) {
      up.reconciliation = null;
      up.nextFlush = plan.maxFlush;
      this.#notifyRepair('Reconciliation', this.#everyTarget(), true);
      return this.#goActive();
    }
    const repairId = ++up.nextJobId;
    plan.current = { repairId, waiting: new Set(step.targets) };
    for (const t of step.targets) this.#send(up.clients[t]!, step.message(repairId));
  }

  /**
   * An Offline client back (client.rs, RegionInfo in mode Offline): told the last flush and
   * Active at once, every job it has not done replayed after it, no answer awaited (message
   * version 13 removed LastFlushAck). Too much to replay: Faulted, to be repaired from a peer
   * (upstream faults an Offline client when its backlog passes the limits; we look when it
   * comes back).
   */
  #replayOffline(client: DownstairsClient): void {
    const up = this.upstairs;
    const config = this.#config;
    const backlog = inProgressFor(up, client);
    this.#setClient(client, { kind: 'Active' });
    if (backlog.length > config.holdMax) return this.#stopClient(client, 'Fault');
    this.#send(client, { type: 'LastFlush', flushNumber: up.nextFlush });
    for (const job of backlog) if (!job.held) this.#send(client, job.message(client.index));
    if (client.state.kind !== 'Active') panic(`client ${client.index} not Active after its replay`);
  }

  /** skip_live_repair: nothing a read-only upstairs did needs repairing; a client back is Active. */
  #skipLiveRepair(): void {
    const up = this.upstairs;
    for (const c of up.clients) {
      if (c.state.kind === 'Connecting' && c.state.state === 'LiveRepairReady') this.#setClient(c, { kind: 'Active' });
    }
  }

  /** The upstairs left Active mid-repair: nothing will send what the repair held. */
  #dropLiveRepair(): void {
    const up = this.upstairs;
    if (up.repair === null) return;
    up.log('live repair dropped: the upstairs left Active');
    up.repair = null;
    skipHeldJobs(up);
  }

  /**
   * reconcile_from_live_repair_ready: all three clients came back needing repair while Active,
   * so there is no source; they are reconciled as at activation (no generation check).
   * Departure (the fix of crucible/reconcile-ties-to-lowest): an extent dirty on several
   * clients with equal generation and flush is taken from the one that did the newest job
   * while Active, which saw every write the others did, not from the lowest client, which may
   * have missed writes acknowledged since (a lost acknowledged write, even after a later flush
   * succeeds). Jobs done in live repair do not count: its unrepaired extents are stale.
   */
  #reconcileFromLiveRepairReady(): void {
    const up = this.upstairs;
    const env = this.#env;
    const versions = up.clients.map((c) => c.versions ?? panic(`client ${c.index}: LiveRepairReady without extent versions`));
    const maxFlush = Math.max(0, ...versions.flatMap((v) => v.flush)) + 1;
    const maxGen = Math.max(0, ...versions.flatMap((v) => v.gen)) + 1;
    probe(env, 'upstairs.live-repair.all-need-repair');
    up.nextFlush = maxFlush;
    const newestFirst = [...up.clients].sort((a, b) => b.newestDoneActive - a.newestDoneActive || a.index - b.index).map((c) => c.index);
    const tieOrder = up.bugs.has('crucible/reconcile-ties-to-lowest') ? undefined : newestFirst;
    const plan = planReconciliation(up, versions, maxFlush, maxGen, tieOrder);
    if (plan === null) {
      for (const client of up.clients) this.#setClient(client, { kind: 'Active' });
      return; // the upstairs stayed Active: no guest request waits in the queue
    }
    up.reconciliation = plan;
    for (const client of up.clients) this.#setClient(client, connecting('Reconcile', 'New'));
    this.#nextRepairStep();
  }

  /**
   * connect_ro_region_set / on_reconciliation_skipped: a read-only upstairs needs no quorum and
   * no reconciliation: the clients in WaitQuorum are Active (the first makes the upstairs
   * Active and answers the activation); while deactivating they are stopped instead.
   */
  #connectReadOnlyRegionSet(): void {
    const up = this.upstairs;
    panicUnless(up.readOnly, 'the read-only region set of a read-write upstairs');
    const ready = up.clients.filter((c) => c.state.kind === 'Connecting' && c.state.state === 'WaitQuorum');
    if (up.state.kind === 'Deactivating') return ready.forEach((c) => this.#stopClient(c, 'Deactivated'));
    if (up.state.kind !== 'GoActive' && up.state.kind !== 'Active') return;
    const pending = up.state.kind === 'GoActive' ? up.state.requestId : null;
    for (const client of ready) this.#setClient(client, { kind: 'Active' });
    if (pending === null) return;
    up.state = { kind: 'Active' };
    up.log(`upstairs: Active (read-only) with ${ready.length} client(s)`);
    this.#answer(pending, this.#activationFrom, true, null);
    this.#drainQueued();
  }

  /** ensure_downstairs_consistency, after every event: move live repair on, or start it. */
  #ensureConsistency(): void {
    const up = this.upstairs;
    continueLiveRepair(up, this.#ports);
    if (up.state.kind !== 'Active' || up.reconciliation !== null) return;
    if (up.readOnly) return this.#skipLiveRepair();
    if (checkLiveRepairStart(up, this.#ports) === 'AllNeedRepair') this.#reconcileFromLiveRepairReady();
  }

  /** RegionInfo: an Offline client is replayed; any other asks for the extent versions. */
  #onRegionInfo(client: DownstairsClient, region: RegionDefinition): void {
    const up = this.upstairs;
    const s = client.state;
    if (s.kind !== 'Connecting' || s.state !== 'WaitForRegionInfo') return this.#stopClient(client, 'NegotiationFailed');
    if (client.regionId !== null && client.regionId !== region.regionId && s.mode !== 'Replaced' && up.state.kind === 'Active') {
      panic(`client ${client.index}: region changed from ${client.regionId} to ${region.regionId} while Active`);
    }
    client.regionId = region.regionId;
    if (s.mode === 'Offline') return this.#replayOffline(client);
    this.#setClient(client, connecting('GetExtentVersions', s.mode));
    this.#send(client, { type: 'ExtentVersionsPlease' });
  }

  /** ExtentVersions: a New (or not yet active Replaced) client waits for quorum; any other is live-repaired. */
  #onExtentVersions(client: DownstairsClient, body: ExtentVersionsBody): void {
    const up = this.upstairs;
    const s = client.state;
    if (s.kind !== 'Connecting' || s.state !== 'GetExtentVersions') return this.#stopClient(client, 'NegotiationFailed');
    if (s.mode === 'Offline') panic(`client ${client.index}: ExtentVersions in mode Offline`);
    client.versions = { gen: body.gen, flush: body.flush, dirty: body.dirty };
    if (s.mode === 'New' || (s.mode === 'Replaced' && up.state.kind !== 'Active')) {
      this.#setClient(client, connecting('WaitQuorum', s.mode === 'Replaced' ? 'Replaced' : 'New'));
      return up.readOnly ? this.#connectReadOnlyRegionSet() : this.#tryCollate();
    }
    this.#setClient(client, connecting('LiveRepairReady', s.mode)); // ensureConsistency starts the repair
  }

  /** A reconciliation step done on one client. */
  #onRepairAck(client: DownstairsClient, repairId: number): void {
    const up = this.upstairs;
    const current = up.reconciliation?.current;
    if (current === undefined || current === null || current.repairId !== repairId) return; // another step's: ignored
    // downstairs.rs on_reconciliation_ack panics on an ack from a client the step skipped.
    if (!current.waiting.has(client.index)) panic(`client ${client.index}: an ack for reconciliation step ${repairId}, which it was not sent or already answered`);
    current.waiting.delete(client.index);
    if (current.waiting.size === 0) this.#nextRepairStep();
  }

  #onFrame(client: DownstairsClient, m: DownstairsMessage): void {
    const up = this.upstairs;
    const s = client.state;
    const negotiating = s.kind === 'Connecting' ? s.state : null;
    switch (m.type) {
      case 'Closed':
        return this.#connectionLost(client, `closed by the downstairs: ${m.reason}`);
      case 'Imok':
        return;
      // client.rs / upstairs.rs: a version mismatch is retried (the rack may be mid-update);
      // mismatched settings are likely for good, and disable the upstairs.
      case 'VersionMismatch':
        return this.#stopClient(client, 'NegotiationFailed');
      case 'ReadOnlyMismatch':
        return this.#setDisabled(client, 'IncompatibleSettings');
      case 'UuidMismatch':
        return this.#setDisabled(client, 'UuidMismatch');
      case 'YouAreNoLongerActive':
        return this.#setDisabled(client, `YouAreNoLongerActive: generation ${m.newGen} took over`);
      case 'YesItsMe':
        if (negotiating !== 'Start') return this.#stopClient(client, 'NegotiationFailed');
        this.#setClient(client, connecting('WaitForPromote', (s as { mode: 'New' }).mode));
        return this.#send(client, { type: 'PromoteToActive', upstairsId: up.upstairsId, sessionId: up.sessionId, gen: up.gen });
      case 'YouAreNowActive':
        if (negotiating !== 'WaitForPromote') return this.#stopClient(client, 'NegotiationFailed');
        if (m.upstairsId !== up.upstairsId || m.sessionId !== up.sessionId || m.gen !== up.gen) return this.#setDisabled(client, 'IncompatibleSession');
        this.#setClient(client, connecting('WaitForRegionInfo', (s as { mode: 'New' }).mode));
        return this.#send(client, { type: 'RegionInfoPlease' });
      case 'RegionInfo':
        return this.#onRegionInfo(client, m.region);
      case 'ExtentVersions':
        return this.#onExtentVersions(client, m);
      case 'RepairAckId':
        return this.#onRepairAck(client, m.repairId);
      case 'ExtentError':
        return this.#abortReconciliation(`client ${client.index}: ${m.error}`);
      case 'ExtentLiveCloseAck':
        return jobDone(up, client, m.jobId, null, { gen: m.gen, flush: m.flush, dirty: m.dirty });
      case 'ExtentLiveRepairAckId':
        return m.error === null ? jobDone(up, client, m.jobId, null) : jobFailed(up, client, m.jobId);
      case 'ExtentLiveAckId':
        return jobDone(up, client, m.jobId, null);
      case 'WriteAck':
      case 'FlushAck':
        jobDone(up, client, m.jobId, null);
        return this.#progressDeactivation();
      case 'ReadResponse':
        jobDone(up, client, m.jobId, m.data);
        return this.#progressDeactivation();
    }
  }

  #guestRequest(from: NodeId, r: GuestRequest): void {
    const up = this.upstairs;
    const env = this.#env;
    const replyTo = { node: from, requestId: r.requestId };
    if (up.state.kind !== 'Active') {
      if (up.state.kind === 'Disabled' || up.state.kind === 'Deactivating') {
        const error = up.state.kind === 'Disabled' ? `upstairs is Disabled: ${up.state.reason}` : 'UpstairsDeactivating';
        env.send(from, { type: 'GuestReply', requestId: r.requestId, sessionId: up.sessionId, gen: up.gen, ok: false, data: null, error } satisfies UpstairsReply);
      } else {
        up.queued.push({ node: from, request: r });
      }
      return;
    }
    if (up.readOnly && r.type !== 'GuestRead') return this.#readOnlyGuestRequest(from, r);
    switch (r.type) {
      case 'GuestWrite': {
        const data = { writeId: r.writeId, gen: up.gen };
        submit(up, this.#ports, { kind: 'Write', replyTo, extent: r.extent, message: (jobId) => ({ type: 'Write', jobId, extent: r.extent, block: r.block, data }) });
        break;
      }
      case 'GuestRead':
        submit(up, this.#ports, { kind: 'Read', replyTo, extent: r.extent, message: (jobId) => ({ type: 'Read', jobId, extent: r.extent, block: r.block }) });
        break;
      case 'GuestFlush':
        this.#submitFlush(replyTo);
        break;
    }
    this.#faultOverfullOffline();
  }

  /** A read-only upstairs refuses a write and acks a flush at once (nothing to make durable). */
  #readOnlyGuestRequest(from: NodeId, r: GuestRequest): void {
    const up = this.upstairs;
    const env = this.#env;
    const ok = r.type === 'GuestFlush';
    env.send(from, { type: 'GuestReply', requestId: r.requestId, sessionId: up.sessionId, gen: up.gen, ok, data: null, error: ok ? null : 'ModifyingReadOnlyRegion' } satisfies UpstairsReply);
  }

  /**
   * An Offline client whose held jobs pass the limit is Faulted at once, to be repaired from a
   * peer when it comes back, not replayed (dummy_downstairs_tests.rs
   * test_job_fault_condition_offline: IO_OUTSTANDING_MAX_JOBS).
   */
  #faultOverfullOffline(): void {
    const up = this.upstairs;
    const env = this.#env;
    const config = this.#config;
    for (const client of up.clients) {
      const s = client.state;
      if (s.kind !== 'Connecting' || s.mode !== 'Offline' || inProgressFor(up, client).length <= config.holdMax) continue;
      probe(env, 'upstairs.offline-faulted');
      this.#stopClient(client, 'Fault');
      if (client.state.kind !== 'Stopping') panic(`client ${client.index} not stopped when faulted`);
    }
  }

  #submitFlush(replyTo: { node: NodeId; requestId: string } | null): void {
    const up = this.upstairs;
    submit(up, this.#ports, flushJob(up, replyTo));
  }

  #drainQueued(): void {
    const up = this.upstairs;
    const waiting = up.queued.splice(0);
    for (const q of waiting) this.#guestRequest(q.node, q.request as GuestRequest);
  }

  #activate(from: NodeId, r: Extract<UpstairsRequest, { type: 'GoActiveWithGen' }>): void {
    const up = this.upstairs;
    const s = up.state;
    if (s.kind === 'Initializing' || s.kind === 'Disabled') {
      up.gen = r.gen;
      this.#activationFrom = from;
      up.state = { kind: 'GoActive', requestId: r.requestId };
      up.log(`upstairs: GoActive at generation ${r.gen}`);
      for (const client of up.clients) {
        const cs = client.state;
        if (cs.kind === 'Connecting' && cs.state === 'WaitConnect') this.#connect(client);
        else if (cs.kind === 'Connecting' && cs.state === 'WaitQuorum') this.#tryCollate();
        else if (cs.kind === 'Stopping' && this.#panicOnStopping) panic(`GoActive with client ${client.index} ${describeDs(cs)} (crucible#1716)`);
        else if (cs.kind !== 'Connecting' && cs.kind !== 'Stopping') panic(`GoActive with client ${client.index} ${describeDs(cs)}`);
      }
      return;
    }
    if (s.kind === 'Active' && r.gen === up.gen) return this.#answer(r.requestId, from, true, null);
    const error = s.kind === 'GoActive' ? (r.gen === up.gen ? 'UpstairsActivateInProgress' : 'GenerationNumberInvalid') : s.kind === 'Deactivating' ? 'UpstairsDeactivating' : 'GenerationNumberInvalid';
    this.#answer(r.requestId, from, false, error);
  }

  #answerDeactivate(requestId: string, ok: boolean, error: string | null): void {
    const up = this.upstairs;
    const env = this.#env;
    up.answered.set(requestId, (up.answered.get(requestId) ?? 0) + 1);
    env.send(this.#deactivationFrom, { type: 'DeactivateReply', requestId, ok, error } satisfies UpstairsReply);
  }

  #deactivate(from: NodeId, r: Extract<UpstairsRequest, { type: 'Deactivate' }>): void {
    const up = this.upstairs;
    const env = this.#env;
    if (up.state.kind !== 'Active') {
      env.send(from, { type: 'DeactivateReply', requestId: r.requestId, ok: false, error: up.state.kind === 'Deactivating' ? 'UpstairsDeactivating' : 'UpstairsInactive' } satisfies UpstairsReply);
      return;
    }
    this.#deactivationFrom = from;
    this.#submitFlush(null);
    up.state = { kind: 'Deactivating', requestId: r.requestId };
    up.log('upstairs: Active -> Deactivating (final flush)');
    this.#progressDeactivation();
  }

  /** Stop each client that is done with its jobs; once all are parked, Initializing and reply. */
  #progressDeactivation(): void {
    const up = this.upstairs;
    if (up.state.kind !== 'Deactivating') return;
    for (const client of up.clients) {
      const s = client.state;
      if (s.kind === 'Stopping' || (s.kind === 'Connecting' && s.state === 'WaitConnect' && s.mode === 'New')) continue;
      if (s.kind === 'Active' && inProgressFor(up, client).length > 0) continue; // still flushing
      if (s.kind !== 'Active') skipClientJobs(up, client); // Offline or repairing: it will not finish them
      this.#stopClient(client, 'Deactivated');
    }
    if (!up.clients.every((c) => c.state.kind === 'Connecting' && c.state.state === 'WaitConnect' && c.state.mode === 'New')) return;
    const requestId = up.state.requestId;
    up.state = { kind: 'Initializing' };
    up.log('upstairs: Deactivating -> Initializing');
    this.#dropLiveRepair(); // a repair still finishing its last flush: a new activation starts afresh
    this.#answerDeactivate(requestId, true, null);
  }

  #replace(from: NodeId, r: Extract<UpstairsRequest, { type: 'Replace' }>): void {
    const up = this.upstairs;
    const env = this.#env;
    const { result, client, why } = checkReplace(up, r.old, r.new);
    probe(env, `upstairs.replace.${result}`);
    if (client !== null) {
      up.log(`upstairs: replace client ${client.index}: ${r.old} -> ${r.new}`);
      skipClientJobs(up, client);
      client.address = r.new;
      this.#durable.targets[client.index] = r.new;
      this.#stopClient(client, 'Replacing'); // a client already stopping comes back at the new address
    }
    env.send(from, { type: 'ReplaceReply', requestId: r.requestId, result, why } satisfies UpstairsReply);
  }

  #handleMessage(from: NodeId, message: unknown): void {
    const up = this.upstairs;
    const env = this.#env;
    const m = message as { type: string };
    if (m.type === 'Frame') {
      const frame = message as Framed<DownstairsMessage>;
      const client = up.clients.find((c) => c.address === from);
      if (client === undefined || client.conn !== frame.conn) return; // an old connection's stragglers
      if (frame.seq !== client.inSeq + 1) return this.#connectionLost(client, 'a message was lost');
      client.inSeq = frame.seq;
      client.lastHeardMs = env.now();
      return this.#onFrame(client, frame.message);
    }
    const r = message as UpstairsRequest;
    if (r.type === 'GoActiveWithGen') return this.#activate(from, r);
    if (r.type === 'Replace') return this.#replace(from, r);
    if (r.type === 'Deactivate') return this.#deactivate(from, r);
    return this.#guestRequest(from, r);
  }

  #handleTimer(t: Tag): void {
    const up = this.upstairs;
    const env = this.#env;
    const config = this.#config;
    if (t.type === 'KeepAlive') {
      env.setTimer(config.keepAliveMs, t);
      for (const client of up.clients) {
        if (client.conn === null) continue;
        if (env.now() - client.lastHeardMs > config.deadAfterMs) this.#connectionLost(client, 'no answer to keep-alive');
        else this.#send(client, { type: 'Ruok' });
      }
      return;
    }
    const client = up.clients[t.client]!;
    if (t.type === 'TaskStopped') {
      if (client.state.kind === 'Stopping') this.#reinitialize(client);
      return this.#progressDeactivation();
    }
    const s = client.state;
    if (s.kind === 'Connecting' && s.state === 'Start' && client.conn === null && (up.state.kind === 'Active' || up.state.kind === 'GoActive')) this.#connect(client);
  }
}
