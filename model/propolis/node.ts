// propolis-server as a node: one process that holds at most one VM (vm.ts), created by the
// sled-agent's instance_ensure and ended when the sled-agent removes the zone. Nothing is durable:
// a crash loses the VM, its queue and the Crucible upstairs inside it. The API (api.ts): state
// changes and VCR replacements go through the request queue; a denied one is 403, no VM is 424.
// A VCR's caller waits for the driver's one reply (polling the VM's reply table, the way a
// handler awaits its oneshot). The upstairs of the VM's Crucible backends talk to their
// downstairs from this node; their frames are routed to the client they belong to, and a repair
// they report is passed on to Nexus (cpapi_upstairs_repair_finish).
//
// Fault model: a Propolis may crash (nothing is durable: the VM, its queue and its upstairs are
// gone; the sled-agent's monitor finds it silent or empty and reports the VMM Failed) or be cut
// off from the downstairs. Its link with its sled-agent is local and never loses anything, but a
// call may find it crashed, and a client that timed out repeats it: every handler answers a
// repeat as the first (a second ensure of the same VMM is Ok). What it sends out (to the
// downstairs, to Nexus) may be lost or late: a repair notice is tried a few times, then dropped.
// A misbehaving client may send it requests straight (a reboot or a migration mid-start): the
// request queue decides what each state accepts. The downstairs its upstairs talk to may crash
// or die for good; a replacement VCR then has to reach the VM through the same queue.

import { panic, panicUnless } from '../assert.ts';
import { call, probe, sleep, type Bugs, type Env, type Flow, type NodeDef, type NodeId, type Process } from '../../ports/index.ts';
import type { NexusReply } from '../nexus/api.ts';
import type { UpstairsReply } from '../crucible/upstairs/control.ts';
import type { DownstairsMessage, Framed } from '../crucible/protocol.ts';
import type { Vcr } from '../crucible/vcr.ts';
import type { PropolisReply, PropolisRequest, RepairFinished } from './api.ts';
import type { BackendEvent, UpstairsTimer } from './crucible-backend.ts';
import type { StateChangeRequest } from './request-queue.ts';
import { Vm, type DriverTag, type VmHost, type VmTuning } from './vm.ts';

export interface PropolisConfig {
  readonly id: NodeId;
  /** Where upstairs repair notifications go. */
  readonly nexus: readonly NodeId[];
  readonly tuning: VmTuning;
  readonly handshakeTimeoutMs: number;
  /** How long a VCR caller is held waiting for the driver before the handler gives up (500). */
  readonly vcrWaitMsMax: number;
}

export interface PropolisProcess extends Process {
  /** The VM this process holds, if any. */
  readonly vm: () => Vm | null;
}

/** Polls of the reply table while a VCR caller waits. */
const VCR_POLL_MS = 20;
/**
 * A repair notice is tried five times back to back, then dropped (crucible notify.rs: a failed
 * High-QoS notice is stored and resent at once until `retries > 3`). Each try waits
 * NOTIFY_TIMEOUT_MS: our stand-in for a refused connection to a Nexus that is down.
 */
const NOTIFY_ATTEMPTS = 5;
const NOTIFY_TIMEOUT_MS = 500;

type Tag = DriverTag | BackendEvent | UpstairsTimer;

export function propolis(config: PropolisConfig, bugs: Bugs): NodeDef<null> {
  return {
    id: config.id,
    initDurable: () => null,
    boot(env: Env): PropolisProcess {
      return new PropolisServer(env, config, bugs);
    },
  };
}

class PropolisServer implements PropolisProcess {
  readonly #env: Env;
  readonly #config: PropolisConfig;
  readonly #bugs: Bugs;
  #vm: Vm | null = null;
  #epoch = 0;

  constructor(env: Env, config: PropolisConfig, bugs: Bugs) {
    panicUnless(config.nexus.length > 0 && config.vcrWaitMsMax > 0, 'propolis: needs a Nexus and a VCR wait');
    this.#env = env;
    this.#config = config;
    this.#bugs = bugs;
  }

  vm = (): Vm | null => this.#vm;

  /** For a person reading a run: the VM this server runs and its epoch. */
  inspect(): unknown {
    return { epoch: this.#epoch, vm: this.#vm };
  }

  onCall(_env: Env, _from: NodeId, request: unknown): PropolisReply | undefined {
    const r = request as PropolisRequest;
    switch (r.type) {
      case 'InstanceEnsure':
        return this.#ensure(r.vmmId, r);
      case 'InstanceStatePut':
        return this.#statePut(r.vmmId, r.requested === 'Run' ? { kind: 'Start' } : r.requested === 'Stop' ? { kind: 'Stop' } : { kind: 'Reboot' });
      case 'InstanceMigrateStart':
        return this.#statePut(r.vmmId, { kind: 'MigrateAsSource', migrationId: r.migrationId, target: r.target });
      case 'InstanceStateMonitor':
        return this.#monitor(r.vmmId);
      case 'InstanceRemove':
        return this.#remove(r.vmmId);
      case 'MigrateHandshake':
        return { type: 'HandshakeRefused' };
      case 'InstanceDiskVolumeStatus':
        return this.#volumeStatus(r.vmmId, r.backendId);
      case 'InstanceVcrReplace':
        return undefined; // a flow: see onRequest
    }
  }

  onRequest(_env: Env, _from: NodeId, request: unknown): Flow<unknown> {
    const r = request as PropolisRequest;
    if (r.type !== 'InstanceVcrReplace') panic(`propolis: ${r.type} is answered by onCall, not by a flow`);
    return this.#vcrReplace(r.vmmId, r.backendId, r.vcr);
  }

  onMessage(_env: Env, from: NodeId, message: unknown): void {
    const frame = message as Framed<DownstairsMessage>;
    if (frame.type !== 'Frame') return;
    const vm = this.#liveVm();
    if (vm === null) return; // the VM's objects are gone: the downstairs will drop the silent connection
    for (const backend of vm.backends.values()) {
      const owner = backend.upstairsFor(from, frame.conn);
      if (owner !== null) return owner.process.onMessage!(backend.envOf(owner.subVolume), from, frame);
    }
  }

  onTimer(_env: Env, tag: unknown): void {
    const t = tag as Tag;
    const vm = this.#vm;
    // Epochs are drawn from this process's counter: a timer can only be of a VM made before it.
    if (t.vmEpoch > this.#epoch) panic(`propolis: a timer of VM epoch ${t.vmEpoch}, beyond ${this.#epoch}`);
    if (vm === null || t.vmEpoch !== vm.epoch) return;
    if (t.type === 'Driver') return vm.onStep(t.step);
    if (vm.rundown === 'Complete') return; // the backends are dropped
    const backend = vm.backends.get(t.backendId);
    if (backend === undefined) return;
    if (t.type === 'UpstairsTimer') return backend.upstairs[t.subVolume]!.onTimer!(backend.envOf(t.subVolume), t.tag);
    const m = t.message;
    if (m.type === 'RepairFinished') return this.#notifyRepair(backend.upstairs[t.subVolume]!.upstairs.upstairsId, m);
    if (m.type !== 'Booted') backend.onUpstairsReply(t.subVolume, m);
  }

  // ---- the API -----------------------------------------------------------------------------

  #ensure(vmmId: string, r: Extract<PropolisRequest, { type: 'InstanceEnsure' }>): PropolisReply {
    if (this.#vm !== null) {
      return this.#vm.vmmId === vmmId ? { type: 'Ok', status: 200 } : { type: 'Error', status: 409, message: `this Propolis runs VMM ${this.#vm.vmmId}` };
    }
    this.#epoch++;
    const epoch = this.#epoch;
    const host: VmHost = {
      env: this.#env,
      bugs: this.#bugs,
      tuning: this.#config.tuning,
      schedule: (delayMs, step) => this.#env.setTimer(delayMs, { type: 'Driver', vmEpoch: epoch, step } satisfies DriverTag),
      handshake: (migrationId, target) => this.#env.spawn(`migrate ${migrationId}`, this.#handshake(epoch, migrationId, target)),
    };
    this.#vm = new Vm(host, vmmId, epoch, r.disks, true, r.migrateIn?.migrationId ?? null);
    if (this.#vm.vmmId !== vmmId || this.#vm.epoch !== this.#epoch) panic(`propolis: VM for ${vmmId} not made at epoch ${this.#epoch}`);
    return { type: 'Ok', status: 200 };
  }

  /** A VM whose objects exist and are not run down: the one the API talks to (upstream's active_vm). */
  #liveVm(vmmId?: string): Vm | null {
    const vm = this.#vm;
    if (vm === null || vm.migratingIn || vm.rundown === 'Complete' || (vmmId !== undefined && vm.vmmId !== vmmId)) return null;
    return vm;
  }

  #statePut(vmmId: string | undefined, request: StateChangeRequest): PropolisReply {
    const vm = this.#liveVm(vmmId);
    if (vm === null) return { type: 'Error', status: 424, message: 'no active VM' };
    const d = vm.queue.tryQueue(request);
    probe(this.#env, `propolis.queue.${request.kind}.${d.kind === 'Denied' ? `denied.${d.reason}` : d.kind.toLowerCase()}`);
    if (d.kind === 'Denied') return { type: 'Error', status: 403, message: `instance state change not allowed: ${d.reason}`, reason: d.reason };
    vm.requestQueued();
    if (vm.vmmId !== vmmId && vmmId !== undefined) panic(`propolis: a request for ${vmmId} queued on VMM ${vm.vmmId}`);
    return { type: 'Ok', status: 204 };
  }

  #monitor(vmmId: string): PropolisReply {
    const vm = this.#vm;
    if (vm === null || vm.vmmId !== vmmId) return { type: 'Error', status: 424, message: 'no instance' };
    return { type: 'State', state: vm.published };
  }

  #remove(vmmId: string): PropolisReply {
    const vm = this.#vm;
    if (vm !== null && vm.vmmId === vmmId) {
      vm.remove();
      this.#vm = null;
    }
    // Removed, or never this VMM's: a remove is idempotent and leaves another VMM's VM alone.
    if (this.#vm !== null && this.#vm.vmmId === vmmId) panic(`propolis: VMM ${vmmId} removed, its VM still here`);
    return { type: 'Ok', status: 204 };
  }

  /** disk_volume_status: read from the backend's objects directly, not through the request queue. */
  #volumeStatus(vmmId: string, backendId: string): PropolisReply {
    const vm = this.#liveVm(vmmId);
    if (vm === null) return { type: 'Error', status: 424, message: 'no active VM' };
    const backend = vm.backends.get(backendId);
    if (backend === undefined) return { type: 'Error', status: 404, message: `No crucible backend for id ${backendId}` };
    return { type: 'VolumeStatus', upstairs: backend.volumeInfo() };
  }

  *#vcrReplace(vmmId: string, backendId: string, vcr: Vcr): Flow<PropolisReply> {
    const vm = this.#liveVm(vmmId);
    if (vm === null) return { type: 'Error', status: 424, message: 'no active VM' };
    const requestId = this.#env.mintId(`${this.#config.id}-vcr`);
    if (vm.vcrReplies.has(requestId)) panic(`propolis: VCR request ${requestId} answered before it was made`);
    const d = vm.queue.tryQueue({ kind: 'ReconfigureCrucibleVolume', requestId, backendId, vcr });
    probe(this.#env, `propolis.queue.ReconfigureCrucibleVolume.${d.kind === 'Denied' ? `denied.${d.reason}` : d.kind.toLowerCase()}`);
    if (d.kind === 'Denied') return { type: 'Error', status: 403, message: `instance state change not allowed: ${d.reason}`, reason: d.reason };
    vm.vcrQueued({ kind: 'ReconfigureCrucibleVolume', requestId, backendId, vcr });
    for (let waited = 0; waited < this.#config.vcrWaitMsMax; waited += VCR_POLL_MS) {
      const reply = vm.vcrReplies.get(requestId);
      if (reply !== undefined) return reply;
      yield* sleep(VCR_POLL_MS);
    }
    return { type: 'Error', status: 500, message: 'the handler stopped waiting for the VM worker' };
  }

  // ---- what the VM asks of the process -------------------------------------------------------

  *#handshake(epoch: number, migrationId: string, target: NodeId): Flow<void> {
    const r = yield* call<PropolisReply>(target, { type: 'MigrateHandshake', migrationId } satisfies PropolisRequest, this.#config.handshakeTimeoutMs);
    const vm = this.#vm;
    if (vm === null || vm.epoch !== epoch) return;
    vm.migrateHandshakeDone(migrationId, r.ok && r.reply.type !== 'HandshakeRefused');
  }

  #notifyRepair(upstairsId: string, m: Extract<UpstairsReply, { type: 'RepairFinished' }>): void {
    const note: RepairFinished = { type: 'CpapiUpstairsRepairFinish', upstairsId, repairType: m.repairType, targets: m.targets, succeeded: m.succeeded };
    this.#env.spawn(`notify repair ${upstairsId}`, this.#sendToNexus(note));
  }

  *#sendToNexus(note: RepairFinished): Flow<void> {
    for (let attempt = 0; attempt < NOTIFY_ATTEMPTS; attempt++) {
      const nexus = this.#config.nexus[this.#env.choose('propolis.nexus', this.#config.nexus.length)]!;
      const r = yield* call<NexusReply>(nexus, note, NOTIFY_TIMEOUT_MS);
      if (r.ok && r.reply.type === 'Ok') return; // an error answer is a failure too (a progenitor Err)
    }
    this.#env.log(`repair notice for ${note.upstairsId} dropped after ${NOTIFY_ATTEMPTS} tries`);
  }
}
