// A sled-agent whose VMMs run in Propolis (sled-agent/src/instance.rs and common/instance.rs,
// omicron b848b6df85), as the propolis-start scenario has it; the instance scenarios keep the
// simulated VMM (node.ts). Its table is volatile, like the simulated one.
// - Register: the VMM is Starting (generation 2; Nexus created it Creating at 1); no Propolis yet.
// - Run: the first time, a Propolis zone is set up (a free Propolis on this sled is given the VM
//   and its disks: instance_ensure), then asked to run; a monitor watches what it publishes.
// - Stop: before any Propolis exists, the VMM is Destroyed at once; else the VMM is published
//   Stopping and Propolis is asked to stop.
// - Every new Propolis state the monitor sees is one VMM generation up, mapped as upstream:
//   Creating and Starting -> Starting, Stopped -> Stopping (a Stopped Propolis can not be
//   restarted: only Destroyed ends the VMM), the rest by name (Repairing, which upstream maps to
//   Running, is never published). Destroyed or
//   Failed: the zone is removed (the Propolis is free again), then the final state is published,
//   and the VMM leaves the table once Nexus has acknowledged it (vmm_is_halted).
//   A Propolis that stops answering, or no longer has the VM (it crashed and came back empty),
//   fails the VMM the same way.
// - A VCR replacement or a volume status query is passed to the VMM's Propolis and its answer
//   back (upstream Nexus calls Propolis at its address; here the sled-agent that knows where it
//   runs carries the call).
// Migration is not modelled on this sled-agent: Propolis' migration status is not reported.

import { panic } from '../assert.ts';
import { isTerminal, type SledVmmState, type VmmState } from '../common/vmm-state.ts';
import type { DiskSpec, PropolisReply, PropolisRequest, PropolisState } from '../propolis/api.ts';
import { call, sleep, type Env, type Flow, type NodeDef, type NodeId, type Process } from '../../ports/index.ts';
import type { SledAgentReply, SledAgentRequest } from './api.ts';
import { publisher, type Published, type PublisherConfig } from './publisher.ts';

export interface PropolisHostConfig extends PublisherConfig {
  readonly id: NodeId;
  /** The Propolis processes this sled can run VMs in, one VM each. */
  readonly propolis: readonly NodeId[];
  readonly propolisTimeoutMs: number;
  readonly monitorEveryMs: number;
  /** Monitor calls unanswered in a row that mean the Propolis is gone. */
  readonly monitorMissesMax: number;
  /** How long a VCR replacement may take at Propolis before the call is given up. */
  readonly vcrTimeoutMs: number;
}

export interface HostedVmm extends Published {
  readonly instanceId: string;
  state: VmmState;
  gen: number;
  readonly disks: readonly DiskSpec[];
  /** The Propolis this VMM's zone runs in, once set up. */
  propolis: NodeId | null;
  /** The last Propolis generation observed. */
  propolisGen: number;
  /** The zone is being set up or torn down: one at a time. */
  busy: boolean;
}

export interface PropolisHostProcess extends Process {
  readonly vmms: ReadonlyMap<string, HostedVmm>;
}

/** A monitor runs while its VMM lives; this bounds it (at 50 ms a poll, longer than any run). */
const MONITOR_POLLS_MAX = 100_000;

export function propolisSledAgent(config: PropolisHostConfig): NodeDef<null> {
  return {
    id: config.id,
    initDurable: () => null,
    boot(env: Env): PropolisHostProcess {
      return new PropolisHost(env, config);
    },
  };
}

/** sled-agent/src/common/instance.rs `From<PropolisInstanceState> for VmmState`. */
export function vmmStateOf(state: PropolisState): VmmState {
  switch (state) {
    case 'Creating':
    case 'Starting':
      return 'Starting';
    case 'Stopped':
      return 'Stopping';
    case 'Running':
    case 'Stopping':
    case 'Rebooting':
    case 'Migrating':
    case 'Failed':
    case 'Destroyed':
      return state;
  }
}

class PropolisHost implements PropolisHostProcess {
  readonly vmms = new Map<string, HostedVmm>();
  readonly #env: Env;
  readonly #config: PropolisHostConfig;

  constructor(env: Env, config: PropolisHostConfig) {
    this.#env = env;
    this.#config = config;
  }

  onCall(_env: Env, _from: NodeId, request: unknown): SledAgentReply | undefined {
    const r = request as SledAgentRequest;
    switch (r.type) {
      case 'VmmRegister':
        return this.#register(r.vmmId, r.instanceId, r.disks ?? []);
      case 'VmmGetState': {
        const vmm = this.vmms.get(r.vmmId);
        return vmm === undefined ? { type: 'NoSuchInstance', vmmId: r.vmmId } : this.#stateReply(vmm);
      }
      case 'VmmMigrateIn':
      case 'MigrateOutStart':
      case 'MigrateOutFinish':
        return { type: 'NoSuchInstance', vmmId: r.vmmId }; // no migration on this sled-agent
      case 'VmmPutState':
      case 'VmmUnregister':
      case 'VmmVcrReplace':
      case 'VmmDiskVolumeStatus':
        return undefined; // they call Propolis: served by flows (onRequest)
    }
  }

  onRequest(_env: Env, _from: NodeId, request: unknown): Flow<SledAgentReply> {
    const r = request as SledAgentRequest;
    switch (r.type) {
      case 'VmmUnregister':
        return this.#unregister(r.vmmId);
      case 'VmmVcrReplace':
        return this.#forward(r.vmmId, { type: 'InstanceVcrReplace', vmmId: r.vmmId, backendId: r.backendId, vcr: r.vcr });
      case 'VmmDiskVolumeStatus':
        return this.#forward(r.vmmId, { type: 'InstanceDiskVolumeStatus', vmmId: r.vmmId, backendId: r.backendId });
      case 'VmmPutState':
        return r.target === 'Running' ? this.#run(r.vmmId) : r.target === 'Reboot' ? this.#reboot(r.vmmId) : this.#stop(r.vmmId);
      default:
        return panic(`sled-agent: ${r.type} is answered by onCall, not by a flow`);
    }
  }

  #register(vmmId: string, instanceId: string, disks: readonly DiskSpec[]): SledAgentReply {
    let vmm = this.vmms.get(vmmId);
    if (vmm === undefined) {
      vmm = { id: vmmId, instanceId, state: 'Starting', gen: 2, disks, propolis: null, propolisGen: 0, busy: false, version: 0, publishing: false, publishedGen: 0 };
      this.vmms.set(vmmId, vmm);
      this.#env.log(`VMM ${vmmId} registered (Starting)`);
      this.#publish(vmm);
    }
    if (!(this.vmms.get(vmmId) === vmm && vmm.instanceId === instanceId)) panic(`VMM ${vmmId}: registered for instance ${instanceId}, found for ${vmm.instanceId}`);
    return this.#stateReply(vmm);
  }

  #stateReply(vmm: HostedVmm): SledAgentReply {
    const state = stateOf(vmm);
    return { type: 'VmmState', vmmId: vmm.id, runtime: state.vmmState, state };
  }

  // ---- state changes -------------------------------------------------------------------------

  *#run(vmmId: string): Flow<SledAgentReply> {
    const vmm = this.vmms.get(vmmId);
    if (vmm === undefined) return { type: 'NoSuchInstance', vmmId };
    if (vmm.propolis === null && !vmm.busy && !isTerminal(vmm.state)) yield* this.#setUpZone(vmm);
    if (vmm.propolis !== null) yield* this.#propolis(vmm.propolis, { type: 'InstanceStatePut', vmmId, requested: 'Run' });
    return this.#stateReply(vmm);
  }

  /** A reboot goes to the VM's Propolis, whose queue decides (instance_put_state Reboot); no VM yet: 400. */
  *#reboot(vmmId: string): Flow<SledAgentReply> {
    const vmm = this.vmms.get(vmmId);
    if (vmm === undefined) return { type: 'NoSuchInstance', vmmId };
    if (vmm.propolis === null) return { type: 'Refused', vmmId, message: `VMM ${vmmId} has no VM to reboot` };
    yield* this.#propolis(vmm.propolis, { type: 'InstanceStatePut', vmmId, requested: 'Reboot' });
    return this.#stateReply(vmm);
  }

  /**
   * A free Propolis takes the VM and its disks (instance_ensure); none taking it fails the VMM. A
   * zone whose setup did not finish (no answer), or whose VMM was stopped or dropped meanwhile,
   * is removed again: a Propolis left holding a VM nobody tracks is a leak (P-L3).
   */
  *#setUpZone(vmm: HostedVmm): Flow<void> {
    if (vmm.propolis !== null || vmm.busy) panic(`VMM ${vmm.id}: a zone set up twice`);
    vmm.busy = true;
    const taken = new Set([...this.vmms.values()].map((v) => v.propolis));
    for (const p of this.#config.propolis.filter((id) => !taken.has(id))) {
      const r = yield* this.#propolis(p, { type: 'InstanceEnsure', vmmId: vmm.id, disks: vmm.disks });
      const stopped = this.vmms.get(vmm.id) !== vmm || isTerminal(vmm.state);
      if (r === null || (r.type === 'Ok' && stopped)) yield* this.#propolis(p, { type: 'InstanceRemove', vmmId: vmm.id });
      if (r?.type !== 'Ok' && !stopped) continue;
      vmm.busy = false;
      if (stopped) return;
      vmm.propolis = p;
      this.#env.spawn(`monitor ${vmm.id}`, this.#monitor(vmm, p));
      return;
    }
    vmm.busy = false;
    if (this.vmms.get(vmm.id) === vmm && !isTerminal(vmm.state)) this.#transition(vmm, 'Failed');
    // No Propolis took it: the VMM has no zone, and is Failed unless it was stopped or dropped meanwhile.
    if (!(vmm.propolis === null && (isTerminal(vmm.state) || this.vmms.get(vmm.id) !== vmm))) panic(`VMM ${vmm.id}: no Propolis took it, yet it is ${vmm.state}`);
  }

  *#stop(vmmId: string): Flow<SledAgentReply> {
    const vmm = this.vmms.get(vmmId);
    if (vmm === undefined) return { type: 'NoSuchInstance', vmmId };
    if (isTerminal(vmm.state)) return this.#stateReply(vmm);
    if (vmm.propolis === null) {
      // No zone yet: force_state_to_destroyed.
      this.#transition(vmm, 'Destroyed');
      return this.#stateReply(vmm);
    }
    if (vmm.state !== 'Stopping') this.#transition(vmm, 'Stopping'); // transition_vmm: published before Propolis hears
    if ((vmm as HostedVmm).state !== 'Stopping') panic(`VMM ${vmmId}: asked to stop, but ${vmm.state}`);
    yield* this.#propolis(vmm.propolis, { type: 'InstanceStatePut', vmmId, requested: 'Stop' });
    return this.#stateReply(vmm);
  }

  *#unregister(vmmId: string): Flow<SledAgentReply> {
    const vmm = this.vmms.get(vmmId);
    if (vmm !== undefined) {
      this.vmms.delete(vmmId);
      if (this.vmms.has(vmmId)) panic(`VMM ${vmmId}: unregistered, still in the table`);
      this.#env.log(`VMM ${vmmId} unregistered: removed from the table`);
      if (vmm.propolis !== null) yield* this.#propolis(vmm.propolis, { type: 'InstanceRemove', vmmId });
    }
    return { type: 'VmmUnregistered', vmmId, state: null }; // departure: upstream's terminate answers with the state forced to Failed; Nexus only looks at whether it answered
  }

  /** A call Nexus makes to the VMM's Propolis, passed on (upstream Nexus calls Propolis itself). */
  *#forward(vmmId: string, request: PropolisRequest): Flow<SledAgentReply> {
    const vmm = this.vmms.get(vmmId);
    if (vmm === undefined) return { type: 'NoSuchInstance', vmmId };
    // Registered but no zone yet: there is no Propolis to take it (Nexus calling it would find none).
    if (vmm.propolis === null) return { type: 'PropolisAnswered', vmmId, reply: { type: 'Error', status: 424, message: 'no Propolis runs this VMM yet' } };
    const r = yield* call<PropolisReply>(vmm.propolis, request, this.#config.vcrTimeoutMs);
    return { type: 'PropolisAnswered', vmmId, reply: r.ok ? r.reply : null };
  }

  // ---- the monitor ---------------------------------------------------------------------------

  *#monitor(vmm: HostedVmm, propolis: NodeId): Flow<void> {
    let misses = 0;
    for (let poll = 0; poll < MONITOR_POLLS_MAX; poll++) {
      if (this.vmms.get(vmm.id) !== vmm || isTerminal(vmm.state)) return;
      const r = yield* this.#propolis(propolis, { type: 'InstanceStateMonitor', vmmId: vmm.id });
      if (this.vmms.get(vmm.id) !== vmm || isTerminal(vmm.state)) return;
      if (r === null) {
        if (++misses >= this.#config.monitorMissesMax) return yield* this.#terminate(vmm, 'Failed');
      } else if (r.type === 'State') {
        misses = 0;
        if (r.state.gen > vmm.propolisGen) {
          const gen = vmm.gen;
          vmm.propolisGen = r.state.gen;
          const mapped = vmmStateOf(r.state.state);
          if (mapped === 'Destroyed' || mapped === 'Failed') return yield* this.#terminate(vmm, mapped);
          this.#transition(vmm, mapped);
          // Every new Propolis generation observed is one VMM generation up.
          if (!(vmm.gen === gen + 1 && vmm.state === mapped)) panic(`VMM ${vmm.id}: Propolis gen ${r.state.gen} not published as one generation up`);
        }
      } else {
        return yield* this.#terminate(vmm, 'Failed'); // the Propolis has no such VM: it crashed and came back empty
      }
      yield* sleep(this.#config.monitorEveryMs);
    }
  }

  /** A halted VMM: remove its zone (the Propolis is free again), then publish the final state. */
  *#terminate(vmm: HostedVmm, final: 'Destroyed' | 'Failed'): Flow<void> {
    const propolis = vmm.propolis;
    if (propolis !== null) yield* this.#propolis(propolis, { type: 'InstanceRemove', vmmId: vmm.id });
    vmm.propolis = null;
    this.#transition(vmm, final);
    if (!(vmm.state === final && vmm.propolis === null)) panic(`VMM ${vmm.id}: halted ${final} with a zone`);
  }

  /** One generation up, published (every observation is one, even of an unchanged state). */
  #transition(vmm: HostedVmm, state: VmmState): void {
    if (isTerminal(vmm.state)) panic(`VMM ${vmm.id} is ${vmm.state}: it can not become ${state}`);
    const gen = vmm.gen;
    vmm.state = state;
    vmm.gen++;
    vmm.version++;
    this.#publish(vmm);
    if (!(vmm.gen === gen + 1 && vmm.publishing)) panic(`VMM ${vmm.id}: a transition to ${state} not one generation up, or not published`);
  }

  #publish(vmm: HostedVmm): void {
    if (vmm.publishing) return; // the running publisher sends the newest state next
    vmm.publishing = true;
    // Destroyed and Failed both end the VMM here: the instance manager drops a halted VMM (vmm_is_halted).
    this.#env.spawn(`publish ${vmm.id}`, publisher(this.#env, this.#config, vmm, stateOf, this.vmms, isTerminal));
  }

  *#propolis(to: NodeId, request: PropolisRequest): Flow<PropolisReply | null> {
    const r = yield* call<PropolisReply>(to, request, this.#config.propolisTimeoutMs);
    return r.ok ? r.reply : null;
  }
}

function stateOf(vmm: HostedVmm): SledVmmState {
  return { vmmState: { state: vmm.state, gen: vmm.gen }, migrationIn: null, migrationOut: null };
}
