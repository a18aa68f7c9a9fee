// What every Nexus flow needs: its environment, its configuration, the bug switches, and a way
// to activate a background task now rather than at its next period.

import type { Bugs, Env, NodeId } from '../../ports/index.ts';

export type BackgroundTask =
  | 'instance_watcher'
  | 'instance_updater'
  | 'abandoned_vmm_reaper'
  | 'instance_reincarnation'
  | 'region_replacement'
  | 'region_replacement_driver'
  | 'region_snapshot_replacement_start'
  | 'region_snapshot_replacement_garbage_collection'
  | 'region_snapshot_replacement_step'
  | 'region_snapshot_replacement_finish';

export interface NexusConfig {
  readonly id: NodeId;
  readonly db: NodeId;
  readonly sleds: readonly NodeId[];
  readonly dbTimeoutMs: number;
  readonly sledTimeoutMs: number;
  /** The background tasks this Nexus runs, each with its period (in this order: the first timers are drawn in it). */
  readonly periodsMs: Readonly<Partial<Record<BackgroundTask, number>>>;
  /** Instances have Crucible disks: a start checks their volumes out and gives the VMM their VCRs. */
  readonly crucibleDisks?: boolean;
  /** How long a reincarnated instance waits before it may be restarted again. */
  readonly reincarnationCooldownMs: number;
}

export interface NexusContext {
  readonly env: Env;
  readonly config: NexusConfig;
  readonly bugs: Bugs;
  kick(task: BackgroundTask): void;
  /** Sagas this process started (volatile): recovery must not run them a second time. */
  readonly localSagas: Set<string>;
  /** Saga error injection (saga/inject.ts), armed by the nemesis; volatile. */
  readonly sagaErrors: { armed: boolean };
}
