// VMM, instance and migration states as Omicron names them
// (nexus/db-model/src/{vmm_state,instance_state,migration_state}.rs).

export type VmmState =
  | 'Creating'
  | 'Starting'
  | 'Running'
  | 'Stopping'
  | 'Stopped'
  | 'Rebooting'
  | 'Migrating'
  | 'Failed'
  | 'Destroyed'
  | 'SagaUnwound';

/** A VMM in one of these has finished for good. */
export const TERMINAL_STATES: readonly VmmState[] = ['Destroyed', 'Failed'];

/** Not on a sled: the instance watcher never asks a sled-agent about these. */
export const NONEXISTENT_STATES: readonly VmmState[] = ['Creating', 'SagaUnwound', 'Destroyed'];

/** The abandoned VMM reaper may delete these once no instance points at them. */
export const DESTROYABLE_STATES: readonly VmmState[] = ['Destroyed', 'Failed', 'SagaUnwound'];

export function isTerminal(state: VmmState): boolean {
  return state === 'Destroyed' || state === 'Failed';
}

/** A VMM runtime state as the sled-agent publishes it; only the sled-agent bumps `gen`. */
export interface VmmRuntimeState {
  readonly state: VmmState;
  readonly gen: number;
}

export type MigrationState = 'Pending' | 'InProgress' | 'Completed' | 'Failed';

export function isMigrationTerminal(state: MigrationState): boolean {
  return state === 'Completed' || state === 'Failed';
}

/** One side of a migration as a sled-agent reports it (MigrationRuntimeState). */
export interface MigrationRuntimeState {
  readonly migrationId: string;
  readonly state: MigrationState;
  readonly gen: number;
}

/** What a sled-agent publishes about a VMM (SledVmmState). */
export interface SledVmmState {
  readonly vmmState: VmmRuntimeState;
  /** The migration into this VMM, reported by the target's sled-agent. */
  readonly migrationIn: MigrationRuntimeState | null;
  /** The migration out of this VMM, reported by the source's sled-agent. */
  readonly migrationOut: MigrationRuntimeState | null;
}

/** The instance record's own state (nexus_state). */
export type InstanceState = 'Creating' | 'NoVmm' | 'Vmm' | 'Failed' | 'Destroyed';

export type IntendedState = 'Running' | 'Stopped' | 'GuestShutdown';

/** InstanceAutoRestartPolicy; null means the default, BestEffort. */
export type AutoRestartPolicy = 'Never' | 'BestEffort' | null;

/** What the API shows a user. */
export type ExternalInstanceState =
  | 'Creating'
  | 'Starting'
  | 'Running'
  | 'Stopping'
  | 'Stopped'
  | 'Rebooting'
  | 'Migrating'
  | 'Failed'
  | 'Destroyed';
