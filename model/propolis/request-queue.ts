// Propolis' external request queue (bin/propolis-server/src/lib/vm/request_queue.rs, propolis
// 372a5744, the queue of #880): which API requests a VM accepts, in what order its state driver
// takes them, and what the driver tells it back.
// - State: NotStarted | StartPending | Running | MigratedOut | Stopped | Failed, and three flags
//   (a Reboot, a migration out, a Stop queued and not yet reported done). A queue made for a
//   migration target starts StartPending.
// - tryQueue: the terminal states deny everything but Stop (ignored); then per kind, the first
//   matching check wins (see `decide`). A denial is an HTTP 403 at the server.
// - popFront: state requests before component (VCR) requests, even older ones; guest events come
//   before both, from the driver's own queue (vm.ts).
// - notifyRequestCompleted / notifyStopped: the driver's reports, their preconditions asserted (a
//   broken one is a PANIC finding, as upstream's assert! is a panic).
// - drain: when the VM goes away, every VCR still queued gets exactly one reply, 410 Gone; state
//   requests are dropped without one.
// Bug switches restore upstream behaviours (scenarios/bugs.ts):
// - propolis/vcr-denied-while-starting: the pre-#880 queue denied a VCR unless the VM was Running
//   with no stop or migration out pending (StartInProgress while starting);
// - propolis/reboot-despite-pending-stop: the pre-#880 queue reset its dispositions when a start
//   completed, forgetting a Stop queued meanwhile: a Reboot (or Migrate) is then let through and
//   the old try_queue's assertion that a Start is being ignored fails;
// - propolis/migrate-accepted-while-starting: today's queue takes a Migrate while StartPending,
//   which the driver's start loop treats as unreachable (the default denies it StartInProgress).

import { panic } from '../assert.ts';
import type { Bugs, NodeId } from '../../ports/index.ts';
import type { Vcr } from '../crucible/vcr.ts';

export type QueueState = 'NotStarted' | 'StartPending' | 'Running' | 'MigratedOut' | 'Stopped' | 'Failed';

export type RequestDeniedReason =
  | 'InstanceNotActive'
  | 'StartInProgress'
  | 'AlreadyMigrationSource'
  | 'InvalidForMigrationSource'
  | 'HaltPending'
  | 'MigratedOut'
  | 'Halted'
  | 'InstanceFailed';

export type StateChangeRequest =
  | { readonly kind: 'Start' }
  | { readonly kind: 'Stop' }
  | { readonly kind: 'Reboot' }
  /** Migrate as source: `target` is the Propolis the source connects to. */
  | { readonly kind: 'MigrateAsSource'; readonly migrationId: string; readonly target: NodeId };

/** ReconfigureCrucibleVolume: one VCR for one backend; `requestId` names the reply it is owed. */
export interface VcrRequest {
  readonly kind: 'ReconfigureCrucibleVolume';
  readonly requestId: string;
  readonly backendId: string;
  readonly vcr: Vcr;
}

export type ExternalRequest = StateChangeRequest | VcrRequest;

export type Disposition = { readonly kind: 'Queued' } | { readonly kind: 'Ignored' } | { readonly kind: 'Denied'; readonly reason: RequestDeniedReason };

export type CompletedRequest =
  | { readonly kind: 'Start'; readonly succeeded: boolean }
  | { readonly kind: 'Reboot' }
  | { readonly kind: 'MigrationOut'; readonly succeeded: boolean }
  | { readonly kind: 'Stop' };

const QUEUED: Disposition = { kind: 'Queued' };
const IGNORED: Disposition = { kind: 'Ignored' };
const denied = (reason: RequestDeniedReason): Disposition => ({ kind: 'Denied', reason });

export class ExternalRequestQueue {
  state: QueueState;
  awaitReboot = false;
  awaitMigrationOut = false;
  awaitStop = false;
  readonly stateQueue: StateChangeRequest[] = [];
  readonly componentQueue: VcrRequest[] = [];
  /** propolis/reboot-despite-pending-stop: a start completed with a Stop pending, and the old dispositions forgot it. */
  #stopForgotten = false;
  readonly #vcrDeniedWhileStarting: boolean;
  readonly #rebootDespitePendingStop: boolean;
  readonly #migrateWhileStarting: boolean;

  /** `autoStart`: a migration target's queue, already StartPending. */
  constructor(autoStart: boolean, bugs: Bugs) {
    this.state = autoStart ? 'StartPending' : 'NotStarted';
    this.#vcrDeniedWhileStarting = bugs.has('propolis/vcr-denied-while-starting');
    this.#rebootDespitePendingStop = bugs.has('propolis/reboot-despite-pending-stop');
    this.#migrateWhileStarting = bugs.has('propolis/migrate-accepted-while-starting');
  }

  get terminal(): boolean {
    return this.state === 'MigratedOut' || this.state === 'Stopped' || this.state === 'Failed';
  }

  /** try_queue: decide, and on Queued apply the effect and push. */
  tryQueue(request: ExternalRequest): Disposition {
    const d = this.decide(request);
    if (d.kind !== 'Queued') return d;
    if (request.kind === 'ReconfigureCrucibleVolume') {
      this.componentQueue.push(request);
      return d;
    }
    this.#applyQueued(request);
    this.stateQueue.push(request);
    return d;
  }

  /** should_queue, in upstream's order of checks. */
  decide(request: ExternalRequest): Disposition {
    const terminal = this.#terminalReason();
    if (terminal !== null) return request.kind === 'Stop' ? IGNORED : denied(terminal);
    switch (request.kind) {
      case 'Start':
        if (this.awaitStop) return denied('HaltPending');
        return this.state === 'NotStarted' ? QUEUED : IGNORED;
      case 'MigrateAsSource':
        if (this.awaitMigrationOut) return denied('AlreadyMigrationSource');
        if (this.awaitStop && !this.#stopForgotten) return denied('HaltPending');
        if (this.state === 'NotStarted') return denied('InstanceNotActive');
        if (this.state === 'StartPending' && !this.#migrateWhileStarting) return denied('StartInProgress');
        return QUEUED;
      case 'Reboot':
        if (this.awaitMigrationOut) return denied('InvalidForMigrationSource');
        if (this.awaitStop && !this.#stopForgotten) return denied('HaltPending');
        if (this.state === 'NotStarted') return denied('InstanceNotActive');
        if (this.state === 'StartPending') return denied('StartInProgress');
        return this.awaitReboot ? IGNORED : QUEUED;
      case 'Stop':
        return this.awaitStop ? IGNORED : QUEUED;
      case 'ReconfigureCrucibleVolume':
        return this.#decideVcr();
    }
  }

  #decideVcr(): Disposition {
    if (!this.#vcrDeniedWhileStarting) return QUEUED;
    // The pre-#880 "mutate" disposition: only a Running VM with nothing pending takes one.
    if (this.awaitStop && !this.#stopForgotten) return denied('HaltPending');
    if (this.state === 'NotStarted') return denied('InstanceNotActive');
    if (this.state === 'StartPending') return denied('StartInProgress');
    if (this.awaitMigrationOut) return denied('InvalidForMigrationSource');
    return QUEUED;
  }

  #terminalReason(): RequestDeniedReason | null {
    if (this.state === 'MigratedOut') return 'MigratedOut';
    if (this.state === 'Stopped') return 'Halted';
    if (this.state === 'Failed') return 'InstanceFailed';
    return null;
  }

  #applyQueued(request: StateChangeRequest): void {
    switch (request.kind) {
      case 'Start':
        if (this.state !== 'NotStarted') panic(`a Start queued in ${this.state}`);
        this.state = 'StartPending';
        return;
      case 'MigrateAsSource':
      case 'Reboot':
        if (this.#stopForgotten) {
          // The pre-#880 try_queue recomputed every disposition and asserted that Start was being
          // ignored; after a Stop it was Deny(HaltPending), so the assertion fails.
          panic(`assertion failed: matches!(self.allowed.start, RequestDisposition::Ignore) (a ${request.kind} let through with a Stop pending, pre-#880 queue)`);
        }
        if (request.kind === 'Reboot') {
          if (this.awaitReboot) panic('a Reboot queued with one already pending');
          this.awaitReboot = true;
        } else {
          if (this.awaitMigrationOut) panic('a migration out queued with one already pending');
          this.awaitMigrationOut = true;
        }
        return;
      case 'Stop':
        if (this.awaitStop) panic('a Stop queued with one already pending');
        this.awaitStop = true;
        return;
    }
  }

  /** pop_front: the oldest state request, else the oldest VCR. */
  popFront(): ExternalRequest | null {
    return this.stateQueue.shift() ?? this.componentQueue.shift() ?? null;
  }

  /** Nothing queued (upstream's tests read it). */
  get empty(): boolean {
    return this.stateQueue.length === 0 && this.componentQueue.length === 0;
  }

  notifyRequestCompleted(c: CompletedRequest): void {
    switch (c.kind) {
      case 'Start':
        if (this.state !== 'StartPending') panic(`Start completed in queue state ${this.state} (assert_eq!(state, StartPending))`);
        this.state = c.succeeded ? 'Running' : 'Failed';
        if (c.succeeded && this.awaitStop && this.#rebootDespitePendingStop) this.#stopForgotten = true;
        return;
      case 'Reboot':
        if (this.state !== 'Running' || !this.awaitReboot) panic(`Reboot completed in ${this.state} with awaitReboot ${this.awaitReboot}`);
        this.awaitReboot = false;
        return;
      case 'MigrationOut':
        if (this.state !== 'Running' || !this.awaitMigrationOut) panic(`migration out completed in ${this.state} with awaitMigrationOut ${this.awaitMigrationOut}`);
        this.awaitMigrationOut = false;
        if (c.succeeded) this.state = 'MigratedOut';
        return;
      case 'Stop':
        if (!this.awaitStop) panic('Stop completed with no Stop pending');
        this.awaitStop = false;
        this.state = 'Stopped';
        return;
    }
  }

  /** A stop nobody asked for (a guest halt, a Stop that aborted a start): Stopped, flags as they were. */
  notifyStopped(): void {
    this.state = 'Stopped';
  }

  /** The queue is dropped with the VM: the VCRs still queued, each owed one 410 Gone. */
  drain(): VcrRequest[] {
    this.stateQueue.length = 0;
    return this.componentQueue.splice(0);
  }
}
