// The simulated sled-agent: a table of VMMs that lives in memory (a crash empties it), the API
// Nexus calls, the publication of every VMM state to Nexus (cpapi_vmms_put), and migrations
// (migration.ts).
//
// RFD 486 §6.1: a VMM stays in the table until its Destroyed state has been published, i.e.
// Nexus has acknowledged it, so a later "no such instance" can only reach a caller whose view
// of the VMM is out of date by generation. The bug switch `sled-agent/remove-before-notify`
// restores the simulated sled-agent's historical order (omicron#7282: sim_poke removes a
// Destroyed VMM from its collection first and notifies Nexus after).
//
// Fault model: a sled-agent may crash (its table, its publications and migrations in flight are
// lost: nothing of it is durable, and a restarted sled-agent knows no VMM, so Nexus's next call
// about one is answered NoSuchInstance), be partitioned from either Nexus (both ways or one way)
// or isolated from every node; its calls to Nexus may be lost, late, duplicated or reordered, so
// a publication is retried with backoff until acknowledged (`publishAttempts`), each attempt to a
// Nexus drawn afresh (one may be down), and Nexus accepts a state only with a higher generation.
// Nexus's calls to it may be lost, late or duplicated too (Nexus times out and tries again):
// every handler answers a repeated request as it answered the first. The peer sled of a migration
// may crash or be cut off mid-way: a source that hears nothing within its wait takes its VMM back,
// a target that cannot reach its source fails its side, and a source that crashed answers
// NoSuchInstance, which the target takes as a failure (migration.ts).

import { panic, panicUnless, unreachable } from '../assert.ts';
import { between, type Bugs, type Env, type NodeDef, type NodeId, type Process } from '../../ports/index.ts';
import { publisher } from './publisher.ts';
import { isMigrationTerminal, isTerminal } from '../common/vmm-state.ts';
import { compareVcrForTargetReplacement } from '../crucible/vcr.ts';
import type { MigrationSource, SledAgentReply, SledAgentRequest } from './api.ts';
import { failMigrationOut, migrateIn, migrateOutFinish, migrateOutStart, type MigrationTag } from './migration.ts';
import { advance, advanceMigration, newSimVmm, nextState, runtimeOf, sledVmmStateOf, type SimVmm } from './sim-vmm.ts';

export interface SledAgentConfig {
  readonly id: NodeId;
  /** Every Nexus; each report goes to one of them (internal DNS would pick one). */
  readonly nexus: readonly NodeId[];
  readonly nexusTimeoutMs: number;
  readonly progressMsMin: number;
  readonly progressMsMax: number;
  /** Publication attempts per VMM; with backoff they outlast any fault episode. */
  readonly publishAttempts: number;
  /** How long moving a VMM's memory takes, at most. */
  readonly migrationMsMax: number;
  /** Chance, per mille, that a migration fails on its own (a Propolis error on either side). */
  readonly migrationFailPerMille: number;
}

export interface SledAgentProcess extends Process {
  readonly vmms: ReadonlyMap<string, SimVmm>;
}

/** What the migration code needs of the sled-agent it runs in. */
export interface SledAgent {
  readonly env: Env;
  readonly config: SledAgentConfig;
  readonly vmms: Map<string, SimVmm>;
  /** How each migration out of this sled ended (volatile, like the table). */
  readonly migrationsOut: Map<string, 'Completed' | 'Failed'>;
  /** Move the VMM to a state, publish it, and schedule its next step. */
  transition(vmm: SimVmm, to: SimVmm['state']): void;
  /** Send the VMM's newest state to Nexus (coalescing with a publication under way). */
  publish(vmm: SimVmm): void;
}

type Tag = { readonly type: 'Progress'; readonly vmmId: string } | MigrationTag;

/**
 * A VCR for one of the VMM's disks, answered as Propolis would from the comparison alone (the
 * simulated VMM has no upstairs, as omicron's simulated sled-agent): a target change is Started
 * and the VCR kept, a generation-only change VcrMatches, anything else a 400 with Crucible's reason.
 */
function vcrReplace(vmm: SimVmm | undefined, request: Extract<SledAgentRequest, { type: 'VmmVcrReplace' }>): SledAgentReply {
  if (vmm === undefined) return { type: 'NoSuchInstance', vmmId: request.vmmId };
  const stored = vmm.disks.get(request.backendId);
  if (stored === undefined || (vmm.state !== 'Running' && vmm.state !== 'Rebooting')) {
    return { type: 'PropolisAnswered', vmmId: vmm.id, reply: { type: 'Error', status: stored === undefined ? 404 : 409, message: stored === undefined ? `no disk ${request.backendId}` : `VM is ${vmm.state}` } };
  }
  const check = compareVcrForTargetReplacement(stored, request.vcr);
  if (check.kind === 'Invalid') return { type: 'PropolisAnswered', vmmId: vmm.id, reply: { type: 'Error', status: 400, message: check.error } };
  vmm.disks.set(request.backendId, request.vcr);
  if (vmm.disks.get(request.backendId) !== request.vcr) panic(`VMM ${vmm.id}: VCR for ${request.backendId} not kept`);
  return { type: 'PropolisAnswered', vmmId: vmm.id, reply: { type: 'VcrReplaced', status: 200, result: check.kind === 'Valid' ? 'Started' : 'VcrMatches' } };
}

export function simSledAgent(config: SledAgentConfig, bugs: Bugs): NodeDef<null> {
  return { id: config.id, initDurable: () => null, boot: (env): SledAgentProcess => new SimSledAgent(env, config, bugs.has('sled-agent/remove-before-notify')) };
}

/** One simulated sled-agent process: its VMM table (volatile), the API Nexus calls, publication and migrations. */
class SimSledAgent implements SledAgent, SledAgentProcess {
  readonly env: Env;
  readonly config: SledAgentConfig;
  readonly vmms = new Map<string, SimVmm>();
  readonly migrationsOut = new Map<string, 'Completed' | 'Failed'>();
  /** Where each migration target's VMM comes from. */
  readonly #migrationSources = new Map<string, MigrationSource>();
  readonly #removeBeforeNotify: boolean;

  constructor(env: Env, config: SledAgentConfig, removeBeforeNotify: boolean) {
    panicUnless(config.nexus.length > 0 && config.progressMsMin <= config.progressMsMax, 'sled-agent: needs a Nexus and a progress window');
    this.env = env;
    this.config = config;
    this.#removeBeforeNotify = removeBeforeNotify;
  }

  /** What the viewer shows of it: the table. */
  inspect(): unknown {
    return { vmms: this.vmms };
  }

  #scheduleProgress(vmm: SimVmm): void {
    if (vmm.progressing || nextState(vmm) === null) return;
    if (this.vmms.get(vmm.id) !== vmm) panic(`VMM ${vmm.id}: a progress step for a VMM not in the table`);
    vmm.progressing = true;
    this.env.setTimer(between(this.env, 'sled.progressMs', this.config.progressMsMin, this.config.progressMsMax), { type: 'Progress', vmmId: vmm.id } satisfies Tag);
  }

  transition(vmm: SimVmm, to: SimVmm['state']): void {
    const gen = vmm.gen;
    advance(vmm, to);
    if (!(vmm.state === to && vmm.gen > gen)) panic(`VMM ${vmm.id}: a transition to ${to} must raise its generation`);
    if (to === 'Destroyed' && this.#removeBeforeNotify) {
      this.vmms.delete(vmm.id);
      this.env.log(`VMM ${vmm.id} removed from the table before its final state was published`);
    }
    this.publish(vmm);
    this.#scheduleProgress(vmm);
  }

  publish(vmm: SimVmm): void {
    if (vmm.publishing) return; // the running publisher sends the newest state next
    vmm.publishing = true;
    this.env.spawn(`publish ${vmm.id}`, publisher(this.env, this.config, vmm, sledVmmStateOf, this.vmms, isTerminal));
  }

  onTimer(_env: Env, tag: unknown): void {
    const t = tag as Tag;
    const vmm = this.vmms.get(t.vmmId);
    if (vmm === undefined) return;
    if (t.type === 'MigrationTimeout') {
      // The target never said how it ended: the source takes its VMM back.
      if (vmm.migrationOut?.migrationId === t.migrationId && vmm.migrationOut.state === 'InProgress') failMigrationOut(this, vmm);
      return;
    }
    if (!vmm.progressing) panic(`VMM ${vmm.id}: a progress step it did not schedule`);
    vmm.progressing = false;
    const to = nextState(vmm);
    if (to !== null) this.transition(vmm, to);
    // A step on the way is followed by the next one, or the VMM is at rest.
    if (!(vmm.progressing || nextState(vmm) === null || !this.vmms.has(vmm.id))) panic(`VMM ${vmm.id}: stalled ${vmm.state} on the way to ${vmm.target}`);
  }

  onCall(_env: Env, _from: NodeId, request: unknown): SledAgentReply {
    const r = request as SledAgentRequest;
    switch (r.type) {
      case 'VmmRegister':
        return this.#register(r);
      case 'VmmPutState':
        return this.#putState(r);
      case 'VmmMigrateIn':
        return this.#migrateIn(r.vmmId);
      case 'MigrateOutStart':
        return migrateOutStart(this, r.vmmId, r.migrationId);
      case 'MigrateOutFinish':
        return migrateOutFinish(this, r.vmmId, r.migrationId, r.ok);
      case 'VmmUnregister':
        return this.#unregister(r.vmmId);
      case 'VmmVcrReplace':
        return vcrReplace(this.vmms.get(r.vmmId), r);
      case 'VmmDiskVolumeStatus':
        // The simulated VMM has no upstairs to report on.
        return { type: 'NoSuchInstance', vmmId: r.vmmId };
      case 'VmmGetState': {
        const vmm = this.vmms.get(r.vmmId);
        return vmm === undefined ? { type: 'NoSuchInstance', vmmId: r.vmmId } : stateReply(vmm);
      }
      default:
        return unreachable(r, 'sled-agent request');
    }
  }

  /** sim/sled_agent.rs instance_register: a VMM already in the table is answered as it is. */
  #register(request: Extract<SledAgentRequest, { type: 'VmmRegister' }>): SledAgentReply {
    let vmm = this.vmms.get(request.vmmId);
    if (vmm === undefined) {
        if (!(request.migration === null || request.migration.vmmId !== request.vmmId)) panic(`VMM ${request.vmmId} registered to migrate from itself`);
      vmm = newSimVmm(request.vmmId, request.instanceId, request.migration?.migrationId ?? null);
      for (const disk of request.disks ?? []) vmm.disks.set(disk.backendId, disk.vcr);
      this.vmms.set(vmm.id, vmm);
      this.env.log(`VMM ${vmm.id} registered (${vmm.state})`);
      if (request.migration !== null) this.#migrationSources.set(vmm.id, request.migration);
      this.publish(vmm);
      this.#scheduleProgress(vmm);
      if (!(this.vmms.get(vmm.id) === vmm && vmm.publishing)) panic(`VMM ${vmm.id}: registered, but not in the table or not published`);
    }
    if (vmm.instanceId !== request.instanceId) panic(`VMM ${vmm.id} registered again for another instance`);
    return stateReply(vmm);
  }

  #putState(request: Extract<SledAgentRequest, { type: 'VmmPutState' }>): SledAgentReply {
    const vmm = this.vmms.get(request.vmmId);
    if (vmm === undefined) return { type: 'NoSuchInstance', vmmId: request.vmmId };
    if (request.target === 'Running' && vmm.target === null) {
      vmm.target = 'Running';
      this.#scheduleProgress(vmm);
    }
    if (request.target === 'Reboot') return this.#reboot(vmm);
    // Never asked to run: no VM to stop, the VMM is Destroyed at once (sim/instance.rs
    // request_transition: Stopped with Starting as the next resting state).
    if (request.target === 'Stopped' && vmm.target === null && vmm.state === 'Starting') {
      vmm.target = 'Stopped';
      this.transition(vmm, 'Destroyed');
    }
    if (request.target === 'Stopped' && vmm.target !== 'Stopped') this.#stop(vmm);
    if (request.target === 'Stopped' ? vmm.target !== 'Stopped' : vmm.target === null) panic(`VMM ${vmm.id}: asked ${request.target}, headed for ${vmm.target}`);
    return stateReply(vmm);
  }

  /** A stop ends a migration this VMM is part of, on either side, and stops the VM. */
  #stop(vmm: SimVmm): void {
    vmm.target = 'Stopped';
    if (vmm.migrationOut?.state === 'InProgress') failMigrationOut(this, vmm);
    if (vmm.migrationIn?.state === 'Pending' || vmm.migrationIn?.state === 'InProgress') advanceMigration(vmm, 'migrationIn', 'Failed');
    if (vmm.state === 'Starting' || vmm.state === 'Running' || vmm.state === 'Rebooting' || vmm.state === 'Migrating') this.transition(vmm, 'Stopping');
    // No migration of a stopped VMM goes on, on either side.
    const out = vmm.migrationOut?.state;
    const into = vmm.migrationIn?.state;
    if (!(out !== 'InProgress' && into !== 'Pending' && into !== 'InProgress')) panic(`VMM ${vmm.id}: stopped with a migration going on (out ${out}, in ${into})`);
  }

  #migrateIn(vmmId: string): SledAgentReply {
    const vmm = this.vmms.get(vmmId);
    const source = this.#migrationSources.get(vmmId);
    if (vmm === undefined || source === undefined) return { type: 'NoSuchInstance', vmmId };
    if (vmm.migrationIn?.migrationId !== source.migrationId) panic(`VMM ${vmmId}: its migration in is not the one it was registered for`);
    if (vmm.migrationIn?.state === 'Pending') this.env.spawn(`migrate in ${vmm.id}`, migrateIn(this, vmm, source));
    return stateReply(vmm);
  }

  /**
   * sim/sled_agent.rs instance_unregister, sim/instance.rs terminate (rude termination): the
   * VMM is forced to Failed and any migration it was in fails, one generation up each; it
   * leaves the table unpublished, and the answer carries that last state (Nexus's callers, the
   * start and migrate undos, only look at whether it answered).
   */
  #unregister(vmmId: string): SledAgentReply {
    const vmm = this.vmms.get(vmmId);
    if (vmm === undefined) return { type: 'VmmUnregistered', vmmId, state: null };
    for (const side of ['migrationIn', 'migrationOut'] as const) {
      const m = vmm[side];
      if (m !== null && !isMigrationTerminal(m.state)) advanceMigration(vmm, side, 'Failed');
    }
    if (!isTerminal(vmm.state)) advance(vmm, 'Failed');
    this.vmms.delete(vmmId);
    this.env.log(`VMM ${vmmId} unregistered (${vmm.state}): removed from the table`);
    if (!(isTerminal(vmm.state) && !this.vmms.has(vmmId))) panic(`VMM ${vmmId} unregistered while ${vmm.state}`);
    return { type: 'VmmUnregistered', vmmId, state: sledVmmStateOf(vmm) };
  }

  /**
   * sim/instance.rs request_transition(Reboot): a Running VM goes Rebooting, then Running again,
   * each published; a second reboot meanwhile is ignored; in any other state, 400.
   */
  #reboot(vmm: SimVmm): SledAgentReply {
    if (vmm.state === 'Rebooting') return stateReply(vmm);
    if (vmm.state !== 'Running' || vmm.target !== 'Running') return { type: 'Refused', vmmId: vmm.id, message: `can't request Reboot of a VMM ${vmm.state}` };
    this.transition(vmm, 'Rebooting');
    if (!(nextState(vmm) === 'Running')) panic(`VMM ${vmm.id} rebooting towards ${nextState(vmm)}`);
    return stateReply(vmm);
  }
}

function stateReply(vmm: SimVmm): SledAgentReply {
  return { type: 'VmmState', vmmId: vmm.id, runtime: runtimeOf(vmm), state: sledVmmStateOf(vmm) };
}
