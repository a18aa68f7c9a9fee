// A Crucible upstairs (upstairs/src/{upstairs,client,downstairs}.rs): three DownstairsClients
// brought to agreement before the guest sees a byte, and kept there.
// - Activation (GoActiveWithGen) from Initializing or Disabled stores the generation and connects
//   the clients; each negotiates (§1.4) to WaitQuorum; with all three there, collation and
//   reconciliation (reconcile.ts), then Active and the one reply to the request.
// - A client that loses its connection reconnects: while Active as Offline (its jobs held and
//   replayed, §1.6) or, past the hold limit, as Faulted (repaired from an Active peer).
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
// Not modelled yet: live repair interleaved with IO (a Faulted or Replaced client is
// repaired whole while guest IO waits).

import { panic, panicUnless } from '../../assert.ts';
import { probe, type Bugs, type Env, type NodeDef, type NodeId, type Process } from '../../ports.ts';
import { CRUCIBLE_VERSION, type DownstairsMessage, type ExtentVersionsBody, type Framed, type RegionDefinition, type UpstairsMessage } from '../protocol.ts';
import type { UpstairsReply, UpstairsRequest } from './control.ts';
import type { DownstairsClient, Upstairs } from './context.ts';
import { inProgressFor, jobDone, skipClientJobs, submit, type IoPorts } from './io.ts';
import { collate } from './reconcile.ts';
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
}

export interface UpstairsProcess extends Process {
  readonly upstairs: Upstairs;
}

type GuestRequest = Extract<UpstairsRequest, { type: 'GuestWrite' | 'GuestRead' | 'GuestFlush' }>;

type Tag =
  | { readonly type: 'KeepAlive' }
  | { readonly type: 'Reconnect'; readonly client: number }
  | { readonly type: 'TaskStopped'; readonly client: number }
  | { readonly type: 'LiveRepairRetry'; readonly client: number };

const RECONNECT_MS = 100;
const TASK_STOP_MS = 5;

/** What survives a restart: the targets of the VCR (Nexus hands the new Propolis the current one). */
export interface UpstairsDurable {
  readonly targets: NodeId[];
}

export function upstairs(config: UpstairsConfig, bugs: Bugs): NodeDef<UpstairsDurable> {
  const oneClient = bugs.has('crucible/disable-one-client');
  const panicOnStopping = bugs.has('crucible/replace-while-initializing');
  return {
    id: config.id,
    initDurable: () => ({ targets: [...config.downstairs] }),
    boot(env: Env, durable: UpstairsDurable): UpstairsProcess {
      const up: Upstairs = {
        env,
        bugs,
        upstairsId: config.upstairsId,
        sessionId: env.mintId(`${config.id}-session`),
        region: config.region,
        state: { kind: 'Initializing' },
        gen: 0,
        clients: durable.targets.map((address, index) => ({
          index,
          address,
          state: connecting('WaitConnect', 'New'),
          conn: null,
          outSeq: 0,
          inSeq: 0,
          lastHeardMs: 0,
          regionId: null,
          versions: null,
        })),
        nextFlush: 0,
        nextJobId: 0,
        jobs: new Map(),
        queued: [],
        reconciliation: null,
        answered: new Map(),
        log: (text) => env.log(text),
      };
      env.setTimer(config.keepAliveMs, { type: 'KeepAlive' } satisfies Tag);
      env.send(config.control, { type: 'Booted' });

      const send = (client: DownstairsClient, message: UpstairsMessage): void => {
        if (client.conn === null) return;
        env.send(client.address, { type: 'Frame', conn: client.conn, seq: ++client.outSeq, message } satisfies Framed<UpstairsMessage>);
      };
      const ports: IoPorts = { send };

      const setClient = (client: DownstairsClient, next: DsState): void => {
        const was = client.state;
        checkTransition(client.index, was, next, up.state);
        up.log(`client ${client.index}: ${describeDs(was)} -> ${describeDs(next)}`);
        client.state = next;
        // Live repair needs an Active source: losing the last one fails it (FailedLiveRepair).
        if (was.kind === 'Active' && next.kind !== 'Active' && !up.clients.some((c) => c.state.kind === 'Active')) {
          for (const c of up.clients) if (c.state.kind === 'LiveRepair') stopClient(c, 'Fault');
        }
      };

      const answer = (requestId: string, node: NodeId, ok: boolean, error: string | null): void => {
        up.answered.set(requestId, (up.answered.get(requestId) ?? 0) + 1);
        env.send(node, { type: 'ActivationReply', requestId, ok, error } satisfies UpstairsReply);
      };
      let activationFrom: NodeId = '';

      const connect = (client: DownstairsClient): void => {
        const mode = client.state.kind === 'Connecting' ? client.state.mode : 'New';
        client.conn = env.mintId(`${config.id}-conn`);
        client.outSeq = 0;
        client.inSeq = 0;
        client.lastHeardMs = env.now();
        client.versions = null;
        if (client.state.kind !== 'Connecting' || client.state.state !== 'Start') setClient(client, connecting('Start', mode));
        send(client, { type: 'HereIAm', version: CRUCIBLE_VERSION, upstairsId: up.upstairsId, sessionId: up.sessionId, gen: up.gen, readOnly: false });
      };

      /** A client's IO task ended: pick its mode (§1.3 reinitialize) and maybe reconnect. */
      const reinitialize = (client: DownstairsClient): void => {
        const s = client.state;
        const active = up.state.kind === 'Active';
        let mode = s.kind === 'Connecting' ? s.mode : 'New';
        if (s.kind === 'Active') mode = inProgressFor(up, client).length > config.holdMax ? 'Faulted' : 'Offline';
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
        setClient(client, connecting(autoConnect ? 'Start' : 'WaitConnect', mode));
        if (autoConnect) env.setTimer(RECONNECT_MS, { type: 'Reconnect', client: client.index } satisfies Tag);
        progressDeactivation(); // a client lost while deactivating is stopped, not awaited
      };

      const stopClient = (client: DownstairsClient, reason: ClientStopReason): void => {
        const s = client.state;
        if (s.kind === 'Stopping') return;
        setClient(client, { kind: 'Stopping', reason });
        client.conn = null;
        env.setTimer(TASK_STOP_MS, { type: 'TaskStopped', client: client.index } satisfies Tag);
        // A reconciling client's task ending aborts the reconciliation (§1.5), e.g. a replace.
        if (s.kind === 'Connecting' && s.state === 'Reconcile' && up.reconciliation !== null) abortReconciliation(`client ${client.index} stopped (${reason})`);
      };

      const setDisabled = (offender: DownstairsClient, reason: string): void => {
        if (oneClient) {
          // Before #1721: only the offending client, back to Initializing, the reply dropped.
          up.log(`upstairs: client ${offender.index} disabled (${reason}); upstairs -> Initializing`);
          up.state = { kind: 'Initializing' };
          stopClient(offender, 'Disabled');
          return;
        }
        const pending = up.state.kind === 'GoActive' ? up.state.requestId : null;
        const deactivating = up.state.kind === 'Deactivating' ? up.state.requestId : null;
        up.log(`upstairs: ${up.state.kind} -> Disabled(${reason})`);
        probe(env, `upstairs.disabled.${up.state.kind}.${/^[A-Za-z]+/.exec(reason)?.[0] ?? 'other'}`);
        up.state = { kind: 'Disabled', reason };
        up.reconciliation = null;
        if (pending !== null) answer(pending, activationFrom, false, reason);
        if (deactivating !== null) answerDeactivate(deactivating, false, reason);
        for (const client of up.clients) {
          const s = client.state;
          if (s.kind === 'Connecting' && s.mode === 'New' && s.state === 'WaitConnect') continue;
          stopClient(client, 'Disabled');
        }
      };

      /** A connection is gone (closed, broken, or silent too long). */
      const connectionLost = (client: DownstairsClient, why: string): void => {
        up.log(`client ${client.index}: connection lost (${why})`);
        const s = client.state;
        if (s.kind === 'Stopping') return;
        if (s.kind === 'Connecting' && s.state === 'Reconcile') return abortReconciliation(`client ${client.index} lost`);
        if (s.kind === 'Connecting') {
          client.conn = null;
          const autoConnect = up.state.kind === 'Active' || up.state.kind === 'GoActive';
          setClient(client, connecting(autoConnect ? 'Start' : 'WaitConnect', s.mode));
          if (autoConnect) env.setTimer(RECONNECT_MS, { type: 'Reconnect', client: client.index } satisfies Tag);
          return;
        }
        reinitialize(client);
      };

      const abortReconciliation = (why: string): void => {
        up.log(`upstairs: reconciliation aborted (${why})`);
        probe(env, 'upstairs.reconciliation.aborted');
        up.reconciliation = null;
        notifyRepair('Reconciliation', everyTarget(), false);
        for (const client of up.clients) {
          const s = client.state;
          if (s.kind === 'Connecting' && s.state === 'Reconcile') stopClient(client, 'NegotiationFailed');
        }
      };

      const goActive = (): void => {
        const pending = up.state.kind === 'GoActive' ? up.state.requestId : null;
        for (const client of up.clients) setClient(client, { kind: 'Active' });
        up.state = { kind: 'Active' };
        up.log(`upstairs: Active at generation ${up.gen}`);
        if (pending !== null) answer(pending, activationFrom, true, null);
        drainQueued();
      };

      /** With all three in WaitQuorum: collate, then reconcile or go Active. */
      const tryCollate = (): void => {
        if (up.state.kind !== 'GoActive') return;
        if (!up.clients.every((c) => c.state.kind === 'Connecting' && c.state.state === 'WaitQuorum' && c.state.mode === 'New')) return;
        const result = collate(up, up.clients.map((c) => c.versions!));
        probe(env, `upstairs.collate.${result.kind}`);
        if (result.kind === 'Refused') return setDisabled(up.clients[0]!, result.reason);
        if (result.kind === 'Ready') {
          up.nextFlush = result.maxFlush;
          return goActive();
        }
        up.reconciliation = result.plan;
        for (const client of up.clients) setClient(client, connecting('Reconcile', 'New'));
        nextRepairStep();
      };

      // Reconciliation involves everyone (downstairs.rs notify_reconcile_finished): its notice names
      // all three targets, whichever extents each one needed.
      const everyTarget = (): string[] => up.clients.map((c) => c.address);

      const notifyRepair = (repairType: 'Reconciliation' | 'Live', targets: readonly string[], succeeded: boolean): void => {
        if (config.notifyRepairs === true) env.send(config.control, { type: 'RepairFinished', repairType, targets, succeeded } satisfies UpstairsReply);
      };

      const nextRepairStep = (): void => {
        const plan = up.reconciliation;
        if (plan === null) return;
        const step = plan.steps.shift();
        if (step === undefined) {
          up.reconciliation = null;
          up.nextFlush = plan.maxFlush;
          notifyRepair('Reconciliation', everyTarget(), true);
          return goActive();
        }
        const repairId = ++up.nextJobId;
        plan.current = { repairId, waiting: new Set(step.targets) };
        for (const t of step.targets) send(up.clients[t]!, step.message(repairId));
      };

      /** A Faulted client is repaired whole from an Active peer (our stand-in for live repair). */
      /**
       * An Offline client back (client.rs, RegionInfo in mode Offline): told the last flush and
       * Active at once, every job it has not done replayed after it, no answer awaited (message
       * version 13 removed LastFlushAck). Too much to replay: Faulted, to be repaired from a peer
       * (upstream faults an Offline client when its backlog passes the limits; we look when it
       * comes back).
       */
      const replayOffline = (client: DownstairsClient): void => {
        const backlog = inProgressFor(up, client);
        setClient(client, { kind: 'Active' });
        if (backlog.length > config.holdMax) return stopClient(client, 'Fault');
        send(client, { type: 'LastFlush', flushNumber: up.nextFlush });
        for (const job of backlog) send(client, job.message);
        panicUnless(client.state.kind === 'Active', `client ${client.index} not Active after its replay`);
      };

      const repairFaulted = (client: DownstairsClient): void => {
        if (up.state.kind !== 'Active' || client.state.kind !== 'Connecting' || client.state.state !== 'LiveRepairReady') return;
        // The source must have finished every job it was given: a copy taken while a write to it
        // is still in flight (or lost, awaiting replay) would miss that write. Try again shortly.
        const source = up.clients.find((c) => c.state.kind === 'Active' && inProgressFor(up, c).length === 0);
        if (source === undefined) {
          probe(env, 'upstairs.live-repair.source-busy');
          env.setTimer(RECONNECT_MS, { type: 'LiveRepairRetry', client: client.index } satisfies Tag);
          return;
        }
        setClient(client, { kind: 'LiveRepair' });
        probe(env, 'upstairs.live-repair.started');
        const steps = Array.from({ length: up.region.extentCount }, (_, e) => e);
        up.log(`client ${client.index}: live repair from client ${source.index}`);
        for (const e of steps) send(client, { type: 'ExtentRepair', repairId: -1 - e, extent: e, source: source.address });
      };
      const liveRepairAcks = new Map<number, Set<number>>();

      /** RegionInfo: an Offline client is replayed; any other asks for the extent versions. */
      function onRegionInfo(client: DownstairsClient, region: RegionDefinition): void {
        const s = client.state;
        if (s.kind !== 'Connecting' || s.state !== 'WaitForRegionInfo') return stopClient(client, 'NegotiationFailed');
        if (client.regionId !== null && client.regionId !== region.regionId && s.mode !== 'Replaced' && up.state.kind === 'Active') {
          panic(`client ${client.index}: region changed from ${client.regionId} to ${region.regionId} while Active`);
        }
        client.regionId = region.regionId;
        if (s.mode === 'Offline') return replayOffline(client);
        setClient(client, connecting('GetExtentVersions', s.mode));
        send(client, { type: 'ExtentVersionsPlease' });
      }

      /** ExtentVersions: a New (or not yet active Replaced) client waits for quorum; any other is live-repaired. */
      function onExtentVersions(client: DownstairsClient, body: ExtentVersionsBody): void {
        const s = client.state;
        if (s.kind !== 'Connecting' || s.state !== 'GetExtentVersions') return stopClient(client, 'NegotiationFailed');
        if (s.mode === 'Offline') panic(`client ${client.index}: ExtentVersions in mode Offline`);
        client.versions = { gen: body.gen, flush: body.flush, dirty: body.dirty };
        if (s.mode === 'New' || (s.mode === 'Replaced' && up.state.kind !== 'Active')) {
          setClient(client, connecting('WaitQuorum', s.mode === 'Replaced' ? 'Replaced' : 'New'));
          return tryCollate();
        }
        setClient(client, connecting('LiveRepairReady', s.mode));
        repairFaulted(client);
      }

      /** A repair step done: live repair's (negative ids, one per extent) or reconciliation's current step. */
      function onRepairAck(client: DownstairsClient, repairId: number): void {
        if (repairId < 0) {
          const acks = liveRepairAcks.get(client.index) ?? new Set<number>();
          acks.add(repairId);
          liveRepairAcks.set(client.index, acks);
          if (acks.size !== up.region.extentCount || client.state.kind !== 'LiveRepair') return;
          liveRepairAcks.delete(client.index);
          setClient(client, { kind: 'Active' });
          probe(env, 'upstairs.live-repair.finished');
          return notifyRepair('Live', [client.address], true);
        }
        const current = up.reconciliation?.current;
        if (current === undefined || current === null || current.repairId !== repairId) return;
        current.waiting.delete(client.index);
        if (current.waiting.size === 0) nextRepairStep();
      }

      function onFrame(client: DownstairsClient, m: DownstairsMessage): void {
        const s = client.state;
        const negotiating = s.kind === 'Connecting' ? s.state : null;
        switch (m.type) {
          case 'Closed':
            return connectionLost(client, `closed by the downstairs: ${m.reason}`);
          case 'Imok':
            return;
          // client.rs / upstairs.rs: a version mismatch is retried (the rack may be mid-update);
          // mismatched settings are likely for good, and disable the upstairs.
          case 'VersionMismatch':
            return stopClient(client, 'NegotiationFailed');
          case 'ReadOnlyMismatch':
            return setDisabled(client, 'IncompatibleSettings');
          case 'UuidMismatch':
            return setDisabled(client, 'UuidMismatch');
          case 'YouAreNoLongerActive':
            return setDisabled(client, `YouAreNoLongerActive: generation ${m.newGen} took over`);
          case 'YesItsMe':
            if (negotiating !== 'Start') return stopClient(client, 'NegotiationFailed');
            setClient(client, connecting('WaitForPromote', (s as { mode: 'New' }).mode));
            return send(client, { type: 'PromoteToActive', upstairsId: up.upstairsId, sessionId: up.sessionId, gen: up.gen });
          case 'YouAreNowActive':
            if (negotiating !== 'WaitForPromote') return stopClient(client, 'NegotiationFailed');
            if (m.upstairsId !== up.upstairsId || m.sessionId !== up.sessionId || m.gen !== up.gen) return setDisabled(client, 'IncompatibleSession');
            setClient(client, connecting('WaitForRegionInfo', (s as { mode: 'New' }).mode));
            return send(client, { type: 'RegionInfoPlease' });
          case 'RegionInfo':
            return onRegionInfo(client, m.region);
          case 'ExtentVersions':
            return onExtentVersions(client, m);
          case 'RepairAckId':
            return onRepairAck(client, m.repairId);
          case 'ExtentError':
            if (client.state.kind === 'LiveRepair') return stopClient(client, 'Fault');
            return abortReconciliation(`client ${client.index}: ${m.error}`);
          case 'WriteAck':
          case 'FlushAck':
            jobDone(up, client, m.jobId, null);
            return progressDeactivation();
          case 'ReadResponse':
            jobDone(up, client, m.jobId, m.data);
            return progressDeactivation();
        }
      }

      const guestRequest = (from: NodeId, r: GuestRequest): void => {
        const replyTo = { node: from, requestId: r.requestId };
        if (up.state.kind !== 'Active' || up.clients.some((c) => c.state.kind === 'LiveRepair')) {
          if (up.state.kind === 'Disabled' || up.state.kind === 'Deactivating') {
            const error = up.state.kind === 'Disabled' ? `upstairs is Disabled: ${up.state.reason}` : 'UpstairsDeactivating';
            env.send(from, { type: 'GuestReply', requestId: r.requestId, sessionId: up.sessionId, gen: up.gen, ok: false, data: null, error } satisfies UpstairsReply);
          } else {
            up.queued.push({ node: from, request: r });
          }
          return;
        }
        switch (r.type) {
          case 'GuestWrite':
            submit(up, ports, 'Write', replyTo, (jobId) => ({ type: 'Write', jobId, extent: r.extent, block: r.block, data: { writeId: r.writeId, gen: up.gen } }));
            break;
          case 'GuestRead':
            submit(up, ports, 'Read', replyTo, (jobId) => ({ type: 'Read', jobId, extent: r.extent, block: r.block }));
            break;
          case 'GuestFlush': {
            const flushNumber = ++up.nextFlush;
            submit(up, ports, 'Flush', replyTo, (jobId) => ({ type: 'Flush', jobId, flushNumber, gen: up.gen }));
            break;
          }
        }
        faultOverfullOffline();
      };
      /**
       * An Offline client whose held jobs pass the limit is Faulted at once, to be repaired from a
       * peer when it comes back, not replayed (dummy_downstairs_tests.rs
       * test_job_fault_condition_offline: IO_OUTSTANDING_MAX_JOBS).
       */
      const faultOverfullOffline = (): void => {
        for (const client of up.clients) {
          const s = client.state;
          if (s.kind !== 'Connecting' || s.mode !== 'Offline' || inProgressFor(up, client).length <= config.holdMax) continue;
          probe(env, 'upstairs.offline-faulted');
          stopClient(client, 'Fault');
          panicUnless(client.state.kind === 'Stopping', `client ${client.index} not stopped when faulted`);
        }
      };
      const drainQueued = (): void => {
        const waiting = up.queued.splice(0);
        for (const q of waiting) guestRequest(q.node, q.request as GuestRequest);
      };

      const activate = (from: NodeId, r: Extract<UpstairsRequest, { type: 'GoActiveWithGen' }>): void => {
        const s = up.state;
        if (s.kind === 'Initializing' || s.kind === 'Disabled') {
          up.gen = r.gen;
          activationFrom = from;
          up.state = { kind: 'GoActive', requestId: r.requestId };
          up.log(`upstairs: GoActive at generation ${r.gen}`);
          for (const client of up.clients) {
            const cs = client.state;
            if (cs.kind === 'Connecting' && cs.state === 'WaitConnect') connect(client);
            else if (cs.kind === 'Connecting' && cs.state === 'WaitQuorum') tryCollate();
            else if (cs.kind === 'Stopping' && panicOnStopping) panic(`GoActive with client ${client.index} ${describeDs(cs)} (crucible#1716)`);
            else if (cs.kind !== 'Connecting' && cs.kind !== 'Stopping') panic(`GoActive with client ${client.index} ${describeDs(cs)}`);
          }
          return;
        }
        if (s.kind === 'Active' && r.gen === up.gen) return answer(r.requestId, from, true, null);
        const error = s.kind === 'GoActive' ? (r.gen === up.gen ? 'UpstairsActivateInProgress' : 'GenerationNumberInvalid') : s.kind === 'Deactivating' ? 'UpstairsDeactivating' : 'GenerationNumberInvalid';
        answer(r.requestId, from, false, error);
      };

      let deactivationFrom: NodeId = '';
      const answerDeactivate = (requestId: string, ok: boolean, error: string | null): void => {
        up.answered.set(requestId, (up.answered.get(requestId) ?? 0) + 1);
        env.send(deactivationFrom, { type: 'DeactivateReply', requestId, ok, error } satisfies UpstairsReply);
      };
      const deactivate = (from: NodeId, r: Extract<UpstairsRequest, { type: 'Deactivate' }>): void => {
        if (up.state.kind !== 'Active') {
          env.send(from, { type: 'DeactivateReply', requestId: r.requestId, ok: false, error: up.state.kind === 'Deactivating' ? 'UpstairsDeactivating' : 'UpstairsInactive' } satisfies UpstairsReply);
          return;
        }
        deactivationFrom = from;
        const flushNumber = ++up.nextFlush;
        submit(up, ports, 'Flush', null, (jobId) => ({ type: 'Flush', jobId, flushNumber, gen: up.gen }));
        up.state = { kind: 'Deactivating', requestId: r.requestId };
        up.log('upstairs: Active -> Deactivating (final flush)');
        progressDeactivation();
      };
      /** Stop each client that is done with its jobs; once all are parked, Initializing and reply. */
      const progressDeactivation = (): void => {
        if (up.state.kind !== 'Deactivating') return;
        for (const client of up.clients) {
          const s = client.state;
          if (s.kind === 'Stopping' || (s.kind === 'Connecting' && s.state === 'WaitConnect' && s.mode === 'New')) continue;
          if (s.kind === 'Active' && inProgressFor(up, client).length > 0) continue; // still flushing
          if (s.kind !== 'Active') skipClientJobs(up, client); // Offline or repairing: it will not finish them
          stopClient(client, 'Deactivated');
        }
        if (!up.clients.every((c) => c.state.kind === 'Connecting' && c.state.state === 'WaitConnect' && c.state.mode === 'New')) return;
        const requestId = up.state.requestId;
        up.state = { kind: 'Initializing' };
        up.log('upstairs: Deactivating -> Initializing');
        answerDeactivate(requestId, true, null);
      };

      const replace = (from: NodeId, r: Extract<UpstairsRequest, { type: 'Replace' }>): void => {
        const { result, client, why } = checkReplace(up, r.old, r.new);
        probe(env, `upstairs.replace.${result}`);
        if (client !== null) {
          up.log(`upstairs: replace client ${client.index}: ${r.old} -> ${r.new}`);
          skipClientJobs(up, client);
          client.address = r.new;
          durable.targets[client.index] = r.new;
          stopClient(client, 'Replacing'); // a client already stopping comes back at the new address
        }
        env.send(from, { type: 'ReplaceReply', requestId: r.requestId, result, why } satisfies UpstairsReply);
      };

      return {
        upstairs: up,
        onMessage(_env: Env, from: NodeId, message: unknown): void {
          const m = message as { type: string };
          if (m.type === 'Frame') {
            const frame = message as Framed<DownstairsMessage>;
            const client = up.clients.find((c) => c.address === from);
            if (client === undefined || client.conn !== frame.conn) return; // an old connection's stragglers
            if (frame.seq !== client.inSeq + 1) return connectionLost(client, 'a message was lost');
            client.inSeq = frame.seq;
            client.lastHeardMs = env.now();
            return onFrame(client, frame.message);
          }
          const r = message as UpstairsRequest;
          if (r.type === 'GoActiveWithGen') return activate(from, r);
          if (r.type === 'Replace') return replace(from, r);
          if (r.type === 'Deactivate') return deactivate(from, r);
          return guestRequest(from, r);
        },
        onTimer(_env: Env, tag: unknown): void {
          const t = tag as Tag;
          if (t.type === 'KeepAlive') {
            env.setTimer(config.keepAliveMs, t);
            for (const client of up.clients) {
              if (client.conn === null) continue;
              if (env.now() - client.lastHeardMs > config.deadAfterMs) connectionLost(client, 'no answer to keep-alive');
              else send(client, { type: 'Ruok' });
            }
            return;
          }
          const client = up.clients[t.client]!;
          if (t.type === 'TaskStopped') {
            if (client.state.kind === 'Stopping') reinitialize(client);
            return progressDeactivation();
          }
          if (t.type === 'LiveRepairRetry') return repairFaulted(client);
          const s = client.state;
          if (s.kind === 'Connecting' && s.state === 'Start' && client.conn === null && (up.state.kind === 'Active' || up.state.kind === 'GoActive')) connect(client);
        },
      };
    },
  };
}
