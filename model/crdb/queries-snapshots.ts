// The transactions of disks, snapshots, volume reference counts and region snapshot replacement
// (datastore/{disk,snapshot,region,region_snapshot,volume,volume_repair,region_snapshot_replacement}.rs,
// omicron b848b6df85), as request and reply types. Dispatched by datastore/execute-snapshots.ts.

import type { Vcr } from '../crucible/vcr.ts';
import type { RsrTransition, StepInsertResult, StepTransition, InsertOutcome, LockResult } from './datastore/region-snapshot-replacement.ts';
import type { AllocatedRegion, DiskChange, RegionAllocateArgs } from './datastore/storage.ts';
import type { FreedResources, ReplaceSnapshotArgs, ReplaceSnapshotOutcome, VolumeCreateResult } from './datastore/volume-usage.ts';
import type { CrucibleResources, DiskRow, RegionSnapshotRow, RsrRow, RsrState, RsrStepRow, RsrStepState, SnapshotRow, SnapshotState, VolumeRow } from './tables.ts';

export interface RegionView {
  readonly regionId: string;
  readonly dataset: string;
  readonly address: string;
  readonly readOnly: boolean;
}

/** Where a clone of a request's target reads from: a read-only downstairs' address. */
export type CloneSource = { readonly ok: true; readonly address: string } | { readonly ok: false; readonly error: string };

export interface SnapshotQueries {
  /** crucible_agent_gone_check: the dataset's physical disk is expunged. */
  DatasetGone: { req: { dataset: string }; rep: { gone: boolean } };
  VolumeCreate: { req: { volumeId: string; vcr: Vcr }; rep: VolumeCreateResult };
  VolumeSoftDelete: { req: { volumeId: string }; rep: { resources: CrucibleResources } };
  VolumeHardDelete: { req: { volumeId: string; leakUsage: boolean }; rep: { deleted: boolean } };
  /** The volume row as stored (soft-deleted ones too), null once hard-deleted. */
  VolumeFetch: { req: { volumeId: string }; rep: { volume: VolumeRow | null } };
  VolumeReplaceSnapshot: { req: ReplaceSnapshotArgs; rep: ReplaceSnapshotOutcome };
  FindDeletedVolumeRegions: { req: { earlyVolume: boolean }; rep: FreedResources };
  RegionAllocate: { req: RegionAllocateArgs; rep: { regions: AllocatedRegion[] | null } };
  RegionsHardDelete: { req: { regionIds: readonly string[] }; rep: { deleted: number } };
  /** The rows still present among these ids. */
  RegionsFetch: { req: { regionIds: readonly string[] }; rep: { regions: RegionView[] } };
  /** get_allocated_regions. */
  AllocatedRegions: { req: { volumeId: string }; rep: { regions: RegionView[] } };
  RegionSnapshotInsert: { req: { dataset: string; regionId: string; snapshotId: string }; rep: { row: RegionSnapshotRow } };
  RegionSnapshotRemove: { req: { key: string }; rep: { removed: boolean } };
  RegionSnapshotFetch: { req: { key: string }; rep: { row: RegionSnapshotRow | null } };
  DiskInsert: { req: { diskId: string; volumeId: string; snapshotId: string | null }; rep: { inserted: boolean } };
  DiskHardDelete: { req: { diskId: string }; rep: { deleted: boolean } };
  DiskFetch: { req: { diskId: string }; rep: { disk: DiskRow | null } };
  DiskSoftDelete: { req: { diskId: string }; rep: DiskChange };
  /** disk-delete's undo (project_undelete_disk_set_faulted_no_auth): the disk back, Faulted. */
  DiskUndeleteSetFaulted: { req: { diskId: string }; rep: { undeleted: boolean } };
  DiskSetAttachment: { req: { diskId: string; instanceId: string | null }; rep: DiskChange };
  /** disk_for_volume_id (no time_deleted filter), with its instance's active VMM. */
  DiskForVolume: { req: { volumeId: string }; rep: { diskId: string | null; instanceId: string | null; vmm: { id: string; sledId: string; state: string } | null } };
  SnapshotInsert: { req: { snapshotId: string; diskId: string; volumeId: string }; rep: { inserted: boolean } };
  /** Our undo for snapshot-delete's record delete (upstream has none): the snapshot back, Faulted. */
  SnapshotUndeleteSetFaulted: { req: { snapshotId: string }; rep: { undeleted: boolean } };
  SnapshotSetState: { req: { snapshotId: string; state: SnapshotState }; rep: { ok: boolean } };
  SnapshotSoftDelete: { req: { snapshotId: string; anyState: boolean }; rep: DiskChange };
  SnapshotFetch: { req: { snapshotId: string }; rep: { snapshot: SnapshotRow | null } };
  VolumeRepairLock: { req: { volumeId: string; repairId: string }; rep: LockResult };
  VolumeRepairUnlock: { req: { volumeId: string; repairId: string }; rep: { ok: boolean } };
  RsrInsert: { req: { requestId: string; regionSnapshot: string; lockNeedsLiveVolume: boolean }; rep: InsertOutcome };
  RsrTransition: { req: RsrTransition; rep: { ok: boolean } };
  RsrListIn: { req: { state: RsrState }; rep: { requests: RsrRow[] } };
  RsrFetch: { req: { requestId: string }; rep: { request: RsrRow | null } };
  RegionSnapshotsToReplace: { req: { includeCreating: boolean }; rep: { keys: string[] } };
  RsrCloneSource: { req: { requestId: string }; rep: CloneSource };
  RsrStepInsert: { req: { stepId: string; requestId: string; volumeId: string; lockNeedsLiveVolume: boolean }; rep: { result: StepInsertResult } };
  RsrStepTransition: { req: StepTransition; rep: { ok: boolean } };
  RsrStepsIn: { req: { state: RsrStepState }; rep: { steps: RsrStepRow[] } };
  RsrStepsInProgress: { req: { requestId: string }; rep: { count: number } };
  /** The user's disks and snapshots not deleted. */
  StorageList: { req: object; rep: { disks: { id: string; instanceId: string | null }[]; snapshots: { id: string; state: SnapshotState }[] } };
  VolumesReferencing: { req: { target: string }; rep: { volumes: { volumeId: string; deleted: boolean }[] } };
}
