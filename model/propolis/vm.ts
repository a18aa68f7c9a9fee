// One VM in a Propolis process and its state driver (bin/propolis-server/src/lib/vm/
// state_driver.rs at 372a5744, that is #873's driver). Its fault model: the process may crash (the
// VM is gone with it), a downstairs may never answer (a backend's activation waits for ever), a
// device may fail to start, the guest may reset or halt on its own, and requests arrive whenever
// the API takes them (request-queue.ts). The driver takes one input at a time: guest events
// first, then the queue's requests.
// - Main loop: Start runs start_vm; Stop publishes Stopping, pauses and halts, publishes Stopped,
//   completes the Stop and exits Destroyed; Reboot publishes Rebooting, resets, publishes Running,
//   completes it; a migration out begins with a handshake with the target, and a handshake that
//   fails publishes a migration error (upstream reports no completion: the switch
//   propolis/migrate-handshake-failure-unreported; by default it reports MigrationOut failed);
//   a VCR is applied (one reply); a guest reset reboots, a guest halt stops (notify_stopped).
// - start_vm (#873): publish Starting, reset the vCPUs, start every device (a failure exits
//   Failed with no completion), then one future starts the backends one after another, raced
//   against the queue, biased toward the backends: a VCR is applied inline and the race goes on;
//   a Stop publishes Stopped, notify_stopped, and exits Destroyed; anything else is unreachable
//   (a panic). All backends active: resume, publish Running, Start(ok); one fails: Start(failed),
//   exit Failed.
// - A migration target (run(migrated_in)): its objects do not exist while the migration-in
//   protocol runs (the API answers 424), and it shows Migrating from the first publication; the
//   protocol (stood in for by `migrateInMs`: no source VM is modelled) publishes its Finish, then
//   start_vm runs as above but never publishes Starting (it resumes rather than resets).
// - Before #873 (propolis/start-awaited-inline, and with it the pre-#880 switches), start_vm
//   awaited the backends inline: nothing was taken off the queue until they were all active,
//   Starting was never published, and a failure was reported and published at once.
// - The final state is published at rundown, once the VM's objects are dropped; VCRs still queued
//   then get 410 Gone.

import { panic } from '../assert.ts';
import { between, flip, type Bugs, type Env } from '../../ports/index.ts';
import type { DiskSpec, PropolisReply, PropolisState, PublishedState } from './api.ts';
import { CrucibleBackend, type VcrOutcome } from './crucible-backend.ts';
import { ExternalRequestQueue, type ExternalRequest, type VcrRequest } from './request-queue.ts';

export interface VmTuning {
  /** Pausing and halting the vCPUs and devices; resetting them. */
  readonly haltMs: number;
  readonly resetMs: number;
  /** Dropping the VM's objects before the final state is published. */
  readonly rundownMs: number;
  /** A migration target's migration-in protocol, before its start_vm. */
  readonly migrateInMs: number;
  /** A device fails its synchronous start, per mille of starts. */
  readonly deviceStartFailPerMille: number;
  /** The guest resets (a reboot of its own) or halts (shuts down) at some point while running, per mille of runs. */
  readonly guestResetPerMille: number;
  readonly guestHaltPerMille: number;
  readonly guestEventMsMax: number;
}

export type GuestEvent = 'VcpuSuspendReset' | 'ChipsetHalt';

type Phase =
  | { readonly kind: 'Idle' }
  | { readonly kind: 'Starting' }
  /** A request or guest event carried out over several steps; `during` is 'Start' when applied inside start_vm. */
  | { readonly kind: 'Busy'; readonly what: string; readonly during: 'Start' | 'Main' }
  | { readonly kind: 'Exited'; readonly finalState: 'Destroyed' | 'Failed' };

/** The sequential future that starts every backend in backend-id order. */
interface StartFuture {
  next: number;
  /** A backend's activation that finished and has not been polled yet. */
  ready: { readonly ok: boolean; readonly error: string | null } | null;
}

/** What the oracle reads of one publication. */
export interface Publication extends PublishedState {
  /** Every backend was active when this was published (P-I5 for Running). */
  readonly backendsActive: boolean;
}

/** What the VM asks of the Propolis process it runs in. */
export interface VmHost {
  readonly env: Env;
  readonly bugs: Bugs;
  readonly tuning: VmTuning;
  /** Schedule a driver step of this VM (wake, a step of a sequence, a guest event). */
  schedule(delayMs: number, step: DriverTag['step']): void;
  /** Start the migration handshake with `target`; the answer comes back through `migrateHandshakeDone`. */
  handshake(migrationId: string, target: string): void;
}

export interface DriverTag {
  readonly type: 'Driver';
  readonly vmEpoch: number;
  readonly step: 'Wake' | 'Halted' | 'Reset' | 'Rundown' | 'MigratedIn' | { readonly guest: GuestEvent };
}

export class Vm {
  readonly vmmId: string;
  readonly epoch: number;
  readonly queue: ExternalRequestQueue;
  /** By backend id, in backend-id order (a BTreeMap upstream). */
  readonly backends: ReadonlyMap<string, CrucibleBackend>;
  published: PublishedState;
  readonly publications: Publication[];
  /** A migration target still in its migration-in protocol: its objects do not exist yet. */
  migratingIn: boolean;
  phase: Phase = { kind: 'Idle' };
  rundown: 'No' | 'Pending' | 'Complete' = 'No';
  /** The state request the driver is carrying out, if any (P-I3, P-I2). */
  inProgress: ExternalRequest['kind'] | null = null;
  /** VCR replies, by request id: exactly one each (P-I1); the server hands them to their callers. */
  readonly vcrReplies = new Map<string, PropolisReply>();
  readonly vcrAccepted = new Set<string>();
  /** The VCR each backend last took, by backend id (P-I7: the spec stores it). */
  readonly lastApplied = new Map<string, DiskSpec['vcr']>();
  readonly #host: VmHost;
  readonly #guestEvents: GuestEvent[] = [];
  #start: StartFuture | null = null;
  #wakeScheduled = false;
  readonly #inline: boolean;
  readonly #reportHandshakeFailure: boolean;

  /** `migrationIn`: the id of the migration this VM is the target of, or null for an explicit start. */
  constructor(host: VmHost, vmmId: string, epoch: number, disks: readonly DiskSpec[], notifyRepairs: boolean, migrationIn: string | null = null) {
    this.#host = host;
    this.vmmId = vmmId;
    this.epoch = epoch;
    this.migratingIn = migrationIn !== null;
    // A target's queue is created StartPending (InstanceAutoStart::Yes); its first state is Migrating.
    this.queue = new ExternalRequestQueue(this.migratingIn, host.bugs);
    const first: PropolisState = this.migratingIn ? 'Migrating' : 'Creating';
    this.published = { gen: 1, state: first, migrationOut: null };
    this.publications = [{ gen: 1, state: first, migrationOut: null, backendsActive: false }];
    if (this.migratingIn) host.schedule(host.tuning.migrateInMs, 'MigratedIn');
    const sorted = [...disks].sort((a, b) => (a.backendId < b.backendId ? -1 : 1));
    this.backends = new Map(sorted.map((d) => [d.backendId, new CrucibleBackend(host.env, epoch, d.backendId, d.vcr, host.bugs, notifyRepairs)]));
    for (const d of sorted) this.lastApplied.set(d.backendId, d.vcr);
    const b = host.bugs;
    this.#inline = b.has('propolis/start-awaited-inline') || b.has('propolis/vcr-denied-while-starting') || b.has('propolis/reboot-despite-pending-stop');
    this.#reportHandshakeFailure = !b.has('propolis/migrate-handshake-failure-unreported');
  }

  // ---- input -------------------------------------------------------------------------------

  /** The API queued (or ignored) a request: the driver is notified either way, as upstream. */
  requestQueued(): void {
    this.wake();
  }

  /** Note a VCR the queue took: it is owed exactly one reply. */
  vcrQueued(request: VcrRequest): void {
    this.vcrAccepted.add(request.requestId);
    this.wake();
  }

  wake(): void {
    if (this.#wakeScheduled || this.phase.kind === 'Exited') return;
    this.#wakeScheduled = true;
    this.#host.schedule(0, 'Wake');
  }

  onStep(step: DriverTag['step']): void {
    if (step === 'Wake') {
      this.#wakeScheduled = false;
      return this.#poll();
    }
    if (step === 'Halted') return this.#halted();
    if (step === 'Reset') return this.#resetDone();
    if (step === 'Rundown') return this.#completeRundown();
    if (step === 'MigratedIn') return this.#migratedIn();
    return this.#guestEvent(step.guest);
  }

  /** A backend's activation finished: the start future has something to poll. */
  #activationDone(ok: boolean, error: string | null): void {
    if (this.#start === null) return; // the start was abandoned (a Stop): nobody polls it
    this.#start.ready = { ok, error };
    this.wake();
  }

  // ---- the driver's loop -------------------------------------------------------------------

  #poll(): void {
    switch (this.phase.kind) {
      case 'Idle':
        return this.#mainLoop();
      case 'Starting':
        return this.#startLoop();
      case 'Busy':
      case 'Exited':
        return;
    }
  }

  #mainLoop(): void {
    const guest = this.#guestEvents.shift();
    if (guest !== undefined) return this.#handleGuestEvent(guest);
    const request = this.queue.popFront();
    if (request === null) return;
    switch (request.kind) {
      case 'Start':
        return this.#startVm();
      case 'Stop':
        return this.#stop();
      case 'Reboot':
        return this.#reboot('Reboot');
      case 'MigrateAsSource':
        return this.#migrateAsSource(request.migrationId, request.target);
      case 'ReconfigureCrucibleVolume':
        return this.#applyVcr(request, 'Main');
    }
  }

  // ---- start_vm ----------------------------------------------------------------------------

  /** destination.rs finish: the migration-in protocol is done; the objects exist; start_vm(MigratedIn). */
  #migratedIn(): void {
    if (!this.migratingIn || this.phase.kind !== 'Idle') panic(`VM ${this.vmmId}: migration in finished twice, or while ${this.phase.kind}`);
    this.migratingIn = false;
    this.#publish('Migrating'); // the Finish update: one generation up, still Migrating
    this.#startVm('MigratedIn');
  }

  #startVm(reason: 'Explicit' | 'MigratedIn' = 'Explicit'): void {
    this.inProgress = 'Start';
    if (!this.#inline && reason === 'Explicit') this.#publish('Starting');
    if (flip(this.#host.env, 'propolis.deviceStartFails', this.#host.tuning.deviceStartFailPerMille)) {
      this.#host.env.log(`VM ${this.vmmId}: a device failed to start`);
      if (this.#inline) return this.#startFailedInline('a device failed to start');
      // #873: return Failed at once, no completion; the queue stays StartPending until dropped.
      return this.#exit('Failed');
    }
    this.#start = { next: 0, ready: null };
    this.phase = { kind: 'Starting' };
    this.#startNextBackend();
  }

  #startNextBackend(): void {
    const future = this.#start!;
    const backend = [...this.backends.values()][future.next];
    if (backend === undefined) return;
    future.next++;
    backend.activate(`${this.vmmId}-activate-${backend.backendId}`, (ok, error) => this.#activationDone(ok, error));
  }

  /** The biased select: poll the backend future first; only while it is pending, take from the queue. */
  #startLoop(): void {
    const future = this.#start!;
    if (future.ready !== null) {
      const { ok, error } = future.ready;
      future.ready = null;
      if (!ok) return this.#inline ? this.#startFailedInline(error ?? 'activation failed') : this.#startFailed(error);
      if (future.next < this.backends.size) this.#startNextBackend();
      else return this.#startSucceeded();
    }
    if (this.#inline) return; // before #873 the driver awaited the backends and nothing else
    if (this.#guestEvents.length > 0) panic("unreachable!: can't get guest events before vCPUs start");
    const request = this.queue.popFront();
    if (request === null) return;
    if (request.kind === 'ReconfigureCrucibleVolume') return this.#applyVcr(request, 'Start');
    if (request.kind === 'Stop') return this.#stopDuringStart();
    panic(`unreachable!: external request ${request.kind} shouldn't be queued while starting`);
  }

  #startSucceeded(): void {
    this.#start = null;
    this.#publish('Running');
    this.queue.notifyRequestCompleted({ kind: 'Start', succeeded: true });
    this.inProgress = null;
    this.phase = { kind: 'Idle' };
    this.#scheduleGuestEvent();
    this.wake();
  }

  #startFailed(error: string | null): void {
    this.#host.env.log(`VM ${this.vmmId}: a backend failed to activate: ${error}`);
    this.#start = null;
    this.queue.notifyRequestCompleted({ kind: 'Start', succeeded: false });
    this.#exit('Failed');
  }

  /** Before #873: a failed start was reported and published at once. */
  #startFailedInline(why: string): void {
    this.#host.env.log(`VM ${this.vmmId}: start failed: ${why}`);
    this.#start = null;
    this.queue.notifyRequestCompleted({ kind: 'Start', succeeded: false });
    this.#publish('Failed');
    this.#exit('Failed');
  }

  /** A Stop while the backends start: Stopped at once, the start abandoned, no Stop completion. */
  #stopDuringStart(): void {
    this.#start = null;
    this.#publish('Stopped');
    this.queue.notifyStopped();
    this.#exit('Destroyed');
  }

  // ---- the main loop's requests ------------------------------------------------------------

  #stop(): void {
    this.inProgress = 'Stop';
    this.#doHalt('Stop');
  }

  /** do_halt: publish Stopping, pause (unless paused) and halt; then `#halted`. */
  #doHalt(what: string): void {
    this.#publish('Stopping');
    this.phase = { kind: 'Busy', what, during: 'Main' };
    this.#host.schedule(this.#host.tuning.haltMs, 'Halted');
  }

  #halted(): void {
    const phase = this.phase;
    if (phase.kind !== 'Busy') panic(`halted while ${phase.kind}`);
    this.#publish('Stopped');
    if (phase.what === 'Stop') this.queue.notifyRequestCompleted({ kind: 'Stop' });
    else this.queue.notifyStopped(); // a guest halt
    this.#exit('Destroyed');
  }

  #reboot(what: 'Reboot' | 'GuestReset'): void {
    if (what === 'Reboot') this.inProgress = 'Reboot';
    this.#publish('Rebooting');
    this.phase = { kind: 'Busy', what, during: 'Main' };
    this.#host.schedule(this.#host.tuning.resetMs, 'Reset');
  }

  #resetDone(): void {
    const phase = this.phase;
    if (phase.kind !== 'Busy') panic(`reset finished while ${phase.kind}`);
    this.#publish('Running');
    if (phase.what === 'Reboot') this.queue.notifyRequestCompleted({ kind: 'Reboot' });
    this.inProgress = null;
    this.phase = { kind: 'Idle' };
    this.wake();
  }

  #migrateAsSource(migrationId: string, target: string): void {
    this.inProgress = 'MigrateAsSource';
    this.phase = { kind: 'Busy', what: `MigrateAsSource ${migrationId}`, during: 'Main' };
    this.#host.handshake(migrationId, target);
  }

  /** The handshake's answer. No target in this model expects a migration, so it always fails. */
  migrateHandshakeDone(migrationId: string, accepted: boolean): void {
    if (this.phase.kind !== 'Busy' || this.phase.what !== `MigrateAsSource ${migrationId}`) return;
    if (accepted) panic(`migration ${migrationId}: a target accepted a handshake it did not expect`);
    // The instance state stays; the migration shows as failed.
    this.#publishMigration(migrationId);
    if (this.#reportHandshakeFailure) this.queue.notifyRequestCompleted({ kind: 'MigrationOut', succeeded: false });
    this.inProgress = null;
    this.phase = { kind: 'Idle' };
    this.wake();
  }

  #applyVcr(request: VcrRequest, during: 'Start' | 'Main'): void {
    const backend = this.backends.get(request.backendId);
    if (backend === undefined) return this.#replyVcr(request.requestId, { type: 'Error', status: 404, message: `No crucible backend for id ${request.backendId}` });
    this.phase = { kind: 'Busy', what: `VCR ${request.requestId}`, during };
    backend.vcrReplace(request.requestId, request.vcr, (outcome) => this.#vcrApplied(request, outcome));
  }

  #vcrApplied(request: VcrRequest, outcome: VcrOutcome): void {
    if (outcome.ok) this.lastApplied.set(request.backendId, request.vcr);
    this.#replyVcr(request.requestId, outcome.ok ? { type: 'VcrReplaced', status: 200, result: outcome.result } : { type: 'Error', status: 400, message: outcome.message });
    const phase = this.phase;
    if (phase.kind === 'Busy' && phase.what === `VCR ${request.requestId}`) {
      this.phase = phase.during === 'Start' ? { kind: 'Starting' } : { kind: 'Idle' };
      this.wake();
    }
  }

  #replyVcr(requestId: string, reply: PropolisReply): void {
    if (this.vcrReplies.has(requestId)) panic(`VCR request ${requestId} answered twice`);
    this.vcrReplies.set(requestId, reply);
  }

  // ---- the guest ---------------------------------------------------------------------------

  #scheduleGuestEvent(): void {
    const t = this.#host.tuning;
    const env = this.#host.env;
    const event: GuestEvent | null = flip(env, 'guest.halts', t.guestHaltPerMille) ? 'ChipsetHalt' : flip(env, 'guest.resets', t.guestResetPerMille) ? 'VcpuSuspendReset' : null;
    if (event !== null) this.#host.schedule(between(env, 'guest.eventMs', 1, t.guestEventMsMax), { guest: event });
  }

  #guestEvent(event: GuestEvent): void {
    if (this.phase.kind === 'Exited' || this.#guestEvents.includes(event)) return; // deduplicated
    this.#guestEvents.push(event);
    this.wake();
  }

  #handleGuestEvent(event: GuestEvent): void {
    if (event === 'ChipsetHalt') return this.#doHalt('GuestHalt');
    this.#reboot('GuestReset');
  }

  // ---- publication and rundown ---------------------------------------------------------------

  #publish(state: PropolisState): void {
    this.published = { gen: this.published.gen + 1, state, migrationOut: this.published.migrationOut };
    this.publications.push({ ...this.published, backendsActive: [...this.backends.values()].every((b) => b.active) });
    this.#host.env.log(`VM ${this.vmmId} publishes ${state} (gen ${this.published.gen})`);
  }

  #publishMigration(migrationId: string): void {
    this.published = { gen: this.published.gen + 1, state: this.published.state, migrationOut: { migrationId, state: 'Error' } };
    this.publications.push({ ...this.published, backendsActive: [...this.backends.values()].every((b) => b.active) });
  }

  #exit(finalState: 'Destroyed' | 'Failed'): void {
    this.phase = { kind: 'Exited', finalState };
    this.inProgress = null;
    this.rundown = 'Pending';
    this.#host.schedule(this.#host.tuning.rundownMs, 'Rundown');
  }

  /** The VM's objects are dropped: the final state is published and the queued VCRs get 410. */
  #completeRundown(): void {
    const phase = this.phase;
    if (phase.kind !== 'Exited' || this.rundown !== 'Pending') return;
    this.rundown = 'Complete';
    if (this.published.state !== phase.finalState) this.#publish(phase.finalState);
    this.#dropQueue();
  }

  /** The queue goes with the VM: each VCR still in it is answered 410 Gone. */
  #dropQueue(): void {
    for (const r of this.queue.drain()) this.#replyVcr(r.requestId, { type: 'Error', status: 410, message: 'VM destroyed before request could be handled' });
  }

  /** Nothing at all runs any more (the zone is removed): what the driver was doing is abandoned. */
  remove(): void {
    if (this.phase.kind !== 'Exited') this.phase = { kind: 'Exited', finalState: 'Destroyed' };
    this.rundown = 'Complete';
    this.#start = null;
    this.#dropQueue();
  }
}
