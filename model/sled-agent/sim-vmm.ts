// A simulated VMM's state machine (sled-agent/src/sim/instance.rs, simplified to the states the
// lifecycle needs). Registered, it rests Starting until Nexus asks it to run (sim_ensure with no
// target: the start saga's ensure_running is what starts it), then walks Starting -> Running, and
// on a stop Stopping -> Stopped (published as Stopping, as the real sled-agent maps a Stopped
// Propolis) -> Destroyed; stopped before it was asked to run, it is Destroyed at once
// (force_state_to_destroyed),
// bumping its generation by one at every state: only the sled-agent moves a VMM's generation.
// A VMM taking part in a migration is Migrating (a target before it takes over, a source while
// its memory moves) and carries that side of the migration, with a generation of its own.

import { panic } from '../assert.ts';
import type { MigrationRuntimeState, MigrationState, SledVmmState, VmmRuntimeState, VmmState } from '../common/vmm-state.ts';
import type { Published } from './publisher.ts';
import type { Vcr } from '../crucible/vcr.ts';

export interface SimVmm extends Published {
  readonly id: string;
  readonly instanceId: string;
  state: VmmState;
  gen: number;
  /** Where it is headed; null: registered, not yet asked to run. */
  target: 'Running' | 'Stopped' | null;
  migrationIn: MigrationRuntimeState | null;
  migrationOut: MigrationRuntimeState | null;
  /** A progress timer is set. */
  progressing: boolean;
  /** The VCR each Crucible disk was given, by backend (disk) id; replaced by a VCR request. */
  readonly disks: Map<string, Vcr>;
}

/**
 * The state a freshly registered VMM reports; Nexus recorded it as Creating at gen 1. A migration
 * target starts Migrating, its side of the migration Pending.
 */
export function newSimVmm(id: string, instanceId: string, migrationId: string | null = null): SimVmm {
  return {
    id,
    instanceId,
    state: migrationId === null ? 'Starting' : 'Migrating',
    gen: 2,
    target: migrationId === null ? null : 'Running',
    migrationIn: migrationId === null ? null : { migrationId, state: 'Pending', gen: 1 },
    migrationOut: null,
    version: 0,
    progressing: false,
    disks: new Map(),
    publishing: false,
    publishedGen: 0,
  };
}

/** The next state on the way to the target, or null if the VMM is at rest (or migrating). */
export function nextState(vmm: SimVmm): VmmState | null {
  switch (vmm.state) {
    case 'Starting':
      return vmm.target === 'Running' ? 'Running' : vmm.target === 'Stopped' ? 'Stopping' : null;
    case 'Running':
      return vmm.target === 'Stopped' ? 'Stopping' : null;
    case 'Rebooting':
      return vmm.target === 'Stopped' ? 'Stopping' : 'Running';
    case 'Stopping':
      return 'Stopped';
    case 'Stopped':
      return 'Destroyed';
    case 'Destroyed':
    case 'Failed':
    case 'Migrating':
      return null;
    default:
      return panic(`simulated VMM ${vmm.id} in unexpected state ${vmm.state}`);
  }
}

export function advance(vmm: SimVmm, to: VmmState): void {
  if (vmm.state === 'Destroyed' || vmm.state === 'Failed') panic(`simulated VMM ${vmm.id} moves after ${vmm.state}`);
  vmm.state = to;
  vmm.gen++;
  vmm.version++;
}

/** Move one side of the VMM's migration on, one generation up. */
export function advanceMigration(vmm: SimVmm, side: 'migrationIn' | 'migrationOut', state: MigrationState): void {
  const current = vmm[side];
  if (current === null) panic(`simulated VMM ${vmm.id} has no ${side}`);
  // A migration side is never reopened: from Completed or Failed it goes nowhere.
  if (current.state === 'Completed' || current.state === 'Failed') panic(`simulated VMM ${vmm.id}: its ${side} moves to ${state} after ${current.state}`);
  vmm[side] = { migrationId: current.migrationId, state, gen: current.gen + 1 };
  vmm.version++;
  if (vmm[side]?.gen !== current.gen + 1) panic(`simulated VMM ${vmm.id}: ${side} not one generation up`);
}

/**
 * What the sled-agent publishes: a Stopped VM is a Stopping VMM (sled-agent/src/common/instance.rs,
 * From<PropolisInstanceState>: it cannot be restarted, and only Destroyed ends it), one
 * generation up all the same.
 */
export function runtimeOf(vmm: SimVmm): VmmRuntimeState {
  return { state: vmm.state === 'Stopped' ? 'Stopping' : vmm.state, gen: vmm.gen };
}

export function sledVmmStateOf(vmm: SimVmm): SledVmmState {
  return { vmmState: runtimeOf(vmm), migrationIn: vmm.migrationIn, migrationOut: vmm.migrationOut };
}
