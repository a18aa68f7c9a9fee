// The transactions Nexus runs against CockroachDB, each atomic, as request and reply types.
// Names follow omicron's datastore functions (nexus/db-queries/src/db/datastore/*.rs).

import type { AutoRestartPolicy, IntendedState, MigrationRuntimeState, VmmRuntimeState } from '../common/vmm-state.ts';
import type { Vcr } from '../crucible/vcr.ts';
import type { ReplacementView, Transition } from './datastore/region-replacement.ts';
import type { VolumeReplaceResult } from './datastore/volume.ts';
import type { SnapshotQueries } from './queries-snapshots.ts';
import type { InstanceRow, InstanceRuntime, MigrationRow, RegionReplacementRow, RegionReplacementState, RegionReplacementStepRow, SagaRow, SagaState, VmmRow } from './tables.ts';

/** An updater lock as its holder knows it. */
export interface UpdaterLock {
  readonly id: string;
  readonly gen: number;
}

/**
 * The lock fields as a caller last read them. Sent with runtime writes only under the bug switch
 * `nexus/lock-in-runtime-state`, which restores the pre-#5831 design where they travelled with
 * the runtime state and a runtime write overwrote them.
 */
export type StaleLockFields = Pick<InstanceRow, 'updaterId' | 'updaterGen'> | null;

export type LockResult = { readonly kind: 'Locked'; readonly lock: UpdaterLock } | { readonly kind: 'AlreadyLocked' } | { readonly kind: 'NotFound' };

/** commit_update's outcomes: written; nothing to do (someone else did it); lost the lock; gone. */
export type CommitOutcome = 'Committed' | 'AlreadyDone' | 'Conflict' | 'NotFound';

export interface Queries extends SnapshotQueries {
  InstanceCreate: { req: { instanceId: string; ncpus: number; memoryMib: number; autoRestartPolicy: AutoRestartPolicy }; rep: { created: boolean } };
  InstanceFetch: { req: { instanceId: string }; rep: InstanceSnapshot | null };
  InstanceSetIntendedState: { req: { instanceId: string; intended: IntendedState }; rep: { found: boolean } };
  /**
   * instance-start's move_to_starting: the VMM becomes active (idempotent; takes over a SagaUnwound
   * one). Like every runtime write outside the update saga, it waits while an updater holds the
   * lock (`locked`): an update working from an older snapshot must not see the instance restarted
   * under it.
   */
  InstanceMoveToStarting: {
    req: { instanceId: string; vmmId: string; expectedGeneration: number; autoRestart: boolean; stale: StaleLockFields };
    rep: { moved: boolean; locked: boolean };
  };
  /**
   * Its undo: back to NoVmm, only if nothing moved on since. `force` (the bug switch
   * nexus/unwind-clears-vmm-ids) clears the active VMM id whatever happened since.
   */
  InstanceMoveToStartingUndo: { req: { instanceId: string; vmmId: string; stale: StaleLockFields; force: boolean }; rep: { undone: boolean } };
  /** Stop of a Failed instance (no VMM, or a SagaUnwound one): -> NoVmm. */
  InstanceClearFailed: { req: { instanceId: string; expectedGeneration: number; stale: StaleLockFields }; rep: { updated: boolean } };
  /** project_delete_instance: only NoVmm or Failed with no active VMM; the updater lock is not read (`lockedBy`: it was held). */
  InstanceDelete: { req: { instanceId: string }; rep: { deleted: boolean; reason: string | null; lockedBy?: string } };
  /** instance-start's create_vmm_record (idempotent). */
  VmmInsert: { req: { vmmId: string; instanceId: string; sledId: string }; rep: { inserted: boolean } };
  /**
   * A sled-agent's report (vmm_and_migration_update_runtime): the VMM lands only at a higher
   * generation on a row not deleted; each migration side only at a higher generation of that side
   * and only if this VMM is that side's VMM. One transaction.
   */
  VmmUpdateRuntime: {
    req: { vmmId: string; runtime: VmmRuntimeState; migrationIn?: MigrationRuntimeState | null; migrationOut?: MigrationRuntimeState | null };
    rep: VmmWriteResult;
  };
  /** instance-migrate's create_migration_record (idempotent). */
  MigrationInsert: { req: { migrationId: string; instanceId: string; sourcePropolisId: string; targetPropolisId: string }; rep: { inserted: boolean } };
  /** Its undo (migration_mark_failed): both sides Failed, one generation up. */
  MigrationMarkFailed: { req: { migrationId: string }; rep: { updated: boolean } };
  /**
   * instance_set_migration_ids: only with the source as the Running (or Rebooting) active VMM and
   * no migration under way, or one an unwound saga left (target SagaUnwound, both sides Failed).
   * Idempotent; waits while an updater holds the lock.
   */
  InstanceSetMigrationIds: {
    req: { instanceId: string; sourcePropolisId: string; migrationId: string; targetPropolisId: string; stale: StaleLockFields };
    rep: { set: boolean; locked: boolean };
  };
  /**
   * Nexus's own conclusion that a VMM is gone (instance watcher 404, a 404 on a state change).
   * Lands like VmmUpdateRuntime, and only on a VMM the sled-agent has reported running:
   * not Creating, not already terminal or unwound. Destroyed wins over a synthesized Failed.
   */
  VmmMarkFailed: { req: { vmmId: string; gen: number }; rep: VmmWriteResult };
  /** vmm_mark_saga_unwound: unconditional gen+1 -> SagaUnwound, for the saga that created it. */
  VmmMarkSagaUnwound: { req: { vmmId: string }; rep: VmmWriteResult };
  /** vmm_mark_deleted: only a destroyable VMM. */
  VmmMarkDeleted: { req: { vmmId: string }; rep: { deleted: boolean } };
  /** The instance watcher's list: VMMs on a sled, not deleted. */
  InstanceAndVmmListBySledAgent: { req: object; rep: { vmms: VmmRow[] } };
  /** The instance updater's list: unlocked instances whose active VMM is terminal. */
  InstancesNeedingUpdate: { req: object; rep: { instanceIds: string[] } };
  /** vmm_list_abandoned: destroyable VMMs no instance points at, not deleted. */
  VmmListAbandoned: { req: object; rep: { vmms: VmmRow[] } };
  /** find_reincarnatable_instances: Failed (or on a SagaUnwound VMM), policy allows, cooled down, unlocked. */
  InstancesReincarnatable: { req: { nowMs: number; cooldownMs: number }; rep: { instanceIds: string[] } };
  UpdaterLock: { req: { instanceId: string; sagaId: string }; rep: LockResult };
  UpdaterInherit: { req: { instanceId: string; parent: UpdaterLock; child: string }; rep: LockResult };
  UpdaterUnlock: { req: { instanceId: string; lock: UpdaterLock }; rep: { unlocked: boolean } };
  /**
   * instance_commit_update: writes the new runtime (one generation above the snapshot) and
   * unlocks, in one transaction, only while `lock` still holds (no lock: nexus/no-updater-lock).
   */
  InstanceCommitUpdate: {
    req: { instanceId: string; lock: UpdaterLock | null; runtime: InstanceRuntime; intended: IntendedState | null; stale: StaleLockFields };
    rep: { outcome: CommitOutcome };
  };
  /** Charge the instance for its VMM, only while that VMM is the instance's active one. */
  ProvisioningInsertInstance: { req: { instanceId: string; vmmId: string }; rep: { charged: boolean } };
  /**
   * Release the instance's charge, whoever took it (the update saga, as omicron does), or with
   * `vmmId` only the charge taken for that VMM (an unwinding start: a newer start's charge is not
   * its to release).
   */
  ProvisioningDeleteInstance: { req: { instanceId: string; vmmId: string | null }; rep: { released: boolean } };
  SagaCreate: { req: { sagaId: string; name: string; owner: string; instanceId: string; params: unknown }; rep: { created: boolean } };
  SagaNodeDone: { req: { sagaId: string; node: string; output: unknown }; rep: { ok: boolean } };
  SagaUnwind: { req: { sagaId: string; error: string }; rep: { ok: boolean } };
  SagaNodeUndone: { req: { sagaId: string; node: string }; rep: { ok: boolean } };
  SagaFinish: { req: { sagaId: string; state: Extract<SagaState, 'Done' | 'Failed'> }; rep: { ok: boolean } };
  SagaListUnfinished: { req: { owner: string }; rep: { sagas: SagaRow[] } };
  SagaFetch: { req: { sagaId: string }; rep: SagaRow | null };
  /** volume_checkout for an instance start, every attached disk's volume: generations up by one. */
  VolumeCheckoutForInstance: { req: { instanceId: string }; rep: { disks: { readonly backendId: string; readonly vcr: Vcr }[] } };
  /** volume_get: the stored VCR, null if the volume is gone. */
  VolumeGet: { req: { volumeId: string }; rep: { vcr: Vcr | null } };
  VolumeReplaceRegion: { req: { volumeId: string; oldRegionId: string; newRegionId: string }; rep: { result: VolumeReplaceResult } };
  /** The operator expunges the physical disk a downstairs runs on. */
  PhysicalDiskExpunge: { req: { downstairs: string }; rep: { expunged: boolean } };
  /** find_read_write_regions_on_expunged_physical_disks, less those a request already replaces. */
  RegionsToReplace: { req: object; rep: { regions: { regionId: string; volumeId: string }[] } };
  RegionReplacementInsert: { req: { replacementId: string; regionId: string; volumeId: string }; rep: { inserted: boolean } };
  /** Requests in a state with no saga operating on them. */
  RegionReplacementsIn: { req: { state: RegionReplacementState }; rep: { requests: RegionReplacementRow[] } };
  RegionReplacementTransition: { req: Transition; rep: { ok: boolean } };
  RegionAllocateReplacement: { req: { replacementId: string; volumeId: string }; rep: { region: { regionId: string; downstairs: string } | null } };
  RegionDelete: { req: { regionId: string }; rep: { deleted: boolean } };
  RegionReplacementView: { req: { replacementId: string }; rep: ReplacementView | null };
  RegionReplacementStepInsert: { req: RegionReplacementStepRow; rep: { inserted: boolean } };
  UpstairsRepairNotify: { req: { upstairsId: string; repairType: 'Reconciliation' | 'Live'; targets: readonly string[]; succeeded: boolean }; rep: { ok: boolean } };
  RegionReplacementRepairFinished: { req: { replacementId: string }; rep: { finished: boolean } };
}

export type QueryName = keyof Queries;
export type DbRequest = { [K in QueryName]: { type: K } & Queries[K]['req'] }[QueryName];
export type DbReply<K extends QueryName> = Queries[K]['rep'];

export interface InstanceSnapshot {
  readonly instance: InstanceRow;
  readonly activeVmm: VmmRow | null;
  readonly targetVmm: VmmRow | null;
  readonly migration: MigrationRow | null;
}

export interface VmmWriteResult {
  readonly found: boolean;
  readonly updated: boolean;
  readonly instanceId: string | null;
  /** A migration side this report carried landed in a terminal state. */
  readonly migrationTerminal?: boolean;
}
