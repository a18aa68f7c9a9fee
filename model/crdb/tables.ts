// CockroachDB's tables as far as the instance lifecycle, volumes, disks and snapshots, and region
// (snapshot) replacement need them. This is the durable state of the CockroachDB node: it survives a
// crash of any node, itself included.

import type { AutoRestartPolicy, InstanceState, IntendedState, MigrationState, VmmState } from '../common/vmm-state.ts';
import type { Vcr } from '../crucible/vcr.ts';

/** The instance's runtime state: written only by sagas, each write one generation higher. */
export interface InstanceRuntime {
  state: InstanceState;
  /** state_generation: owned by Nexus, bumped by every write of the runtime state. */
  stateGeneration: number;
  activePropolisId: string | null;
  targetPropolisId: string | null;
  migrationId: string | null;
}

export interface InstanceRow extends InstanceRuntime {
  readonly id: string;
  readonly ncpus: number;
  readonly memoryMib: number;
  intendedState: IntendedState;
  /** The updater lock (#5831): kept apart from the runtime state on purpose. */
  updaterId: string | null;
  updaterGen: number;
  readonly autoRestartPolicy: AutoRestartPolicy;
  timeLastAutoRestarted: number | null;
  timeDeleted: number | null;
}

export interface VmmRow {
  readonly id: string;
  readonly instanceId: string;
  readonly sledId: string;
  state: VmmState;
  /** Owned by the sled-agent; a runtime write lands only with a higher generation. */
  gen: number;
  readonly timeCreated: number;
  timeDeleted: number | null;
}

/** A migration: each side's state and generation are written by that side's sled-agent reports. */
export interface MigrationRow {
  readonly id: string;
  readonly instanceId: string;
  readonly sourcePropolisId: string;
  readonly targetPropolisId: string;
  sourceState: MigrationState;
  sourceGen: number;
  targetState: MigrationState;
  targetGen: number;
  readonly timeCreated: number;
}

export type SagaState = 'Running' | 'Unwinding' | 'Done' | 'Failed';

/** The durable saga log: enough to resume a saga after its Nexus crashed. */
export interface SagaRow {
  readonly id: string;
  readonly name: string;
  /** The Nexus that runs it, and recovers it after a crash. */
  readonly owner: string;
  readonly instanceId: string;
  readonly params: unknown;
  state: SagaState;
  /** Outputs of the nodes that finished, by node name. */
  readonly outputs: Record<string, unknown>;
  /** Nodes whose undo finished. */
  readonly undone: string[];
  error: string | null;
}

/** virtual_provisioning_resource: one row per instance charged, keyed by the instance id. */
export interface ProvisioningRow {
  readonly instanceId: string;
  /** The VMM the charge was taken for (our bookkeeping; omicron keys by instance alone). */
  readonly vmmId: string;
  readonly cpus: number;
  readonly ramMib: number;
}

/** A disk: its volume, and the instance it is attached to. */
export interface DiskRow {
  readonly id: string;
  instanceId: string | null;
  readonly volumeId: string;
  /** The snapshot it was made from (its volume's read-only parent is a copy of the snapshot's). */
  readonly snapshotId?: string | null;
  /** Deleted by its user (the row stays, as upstream's soft delete of a disk). */
  timeDeleted?: number | null;
  /** Put back by an unwound delete (disk state Faulted): it can only be deleted again. */
  faulted?: boolean;
}

/** What soft_delete_volume returned for cleanup: stored, so a second call returns the same. */
export interface CrucibleResources {
  /** Regions (read-write without snapshots, or read-only with no usage left) to delete on their agents. */
  readonly regions: readonly string[];
  /** Region snapshots (keys) with no usage left: running snapshot, ZFS snapshot, record to delete. */
  readonly regionSnapshots: readonly string[];
}

/** A volume: its stored VCR (volume.data), soft-deleted or not; hard delete removes the row. */
export interface VolumeRow {
  readonly id: string;
  vcr: Vcr;
  timeDeleted: number | null;
  resourcesToCleanUp?: CrucibleResources | null;
}

/**
 * A region on a physical disk. `downstairs` is its address (the downstairs that serves it), `dataset`
 * the Crucible dataset (one agent per zpool) it lives on. Read-only regions are the clones region
 * snapshot replacement makes; `deleting` is set on one when its last usage goes.
 */
export interface RegionRow {
  readonly id: string;
  /** The volume that references it; the old region of a replacement moves to a volume of its own. */
  volumeId: string;
  readonly downstairs: string;
  timeDeleted: number | null;
  readonly dataset: string;
  readonly readOnly: boolean;
  deleting: boolean;
}

/** region_snapshot: a ZFS snapshot of a region and the read-only downstairs serving it, at `address`. */
export interface RegionSnapshotRow {
  /** `${regionId}@${snapshotId}`: the record's key (dataset, region, snapshot upstream). */
  readonly key: string;
  readonly dataset: string;
  readonly regionId: string;
  readonly snapshotId: string;
  readonly address: string;
  deleting: boolean;
}

/** volume_resource_usage: one row per (volume, read-only target) (#6805). */
export interface UsageRow {
  volumeId: string;
  readonly kind: 'ReadOnlyRegion' | 'RegionSnapshot';
  /** The region id, or the region snapshot's key. */
  readonly resource: string;
}

export type SnapshotState = 'Creating' | 'Ready' | 'Faulted' | 'Destroyed';

/** A snapshot of a disk: its own volume (SV), whose read-only targets are the region snapshots. */
export interface SnapshotRow {
  readonly id: string;
  readonly diskId: string;
  readonly volumeId: string;
  state: SnapshotState;
  timeDeleted: number | null;
}

export type RsrState = 'Requested' | 'Allocating' | 'ReplacementDone' | 'DeletingOldVolume' | 'Running' | 'Completing' | 'Complete';

/** region_snapshot_replacement: the replacement of one region snapshot (T) by a read-only region (R'). */
export interface RsrRow {
  readonly id: string;
  /** T: the region snapshot's key, and its parts. */
  readonly oldRegionSnapshot: string;
  readonly oldRegionId: string;
  readonly oldSnapshotId: string;
  /** The stash: a blank volume the swap moves T into (old_snapshot_volume_id). */
  oldSnapshotVolumeId: string | null;
  newRegionId: string | null;
  /** NRV (#7046): a volume whose only job is to reference R'. */
  newRegionVolumeId: string | null;
  state: RsrState;
  operatingSagaId: string | null;
  readonly requestTimeMs: number;
}

export type RsrStepState = 'Requested' | 'Running' | 'Complete' | 'VolumeDeleted';

/** region_snapshot_replacement_step: the swap of T for R' in one more volume. */
export interface RsrStepRow {
  readonly id: string;
  readonly requestId: string;
  readonly volumeId: string;
  oldSnapshotVolumeId: string | null;
  state: RsrStepState;
  operatingSagaId: string | null;
}

export type RegionReplacementState = 'Requested' | 'Allocating' | 'Running' | 'Driving' | 'ReplacementDone' | 'Completing' | 'Complete';

/** region_replacement: a state plus the id of the saga operating on it (the state-plus-saga-id lock). */
export interface RegionReplacementRow {
  readonly id: string;
  readonly oldRegionId: string;
  readonly volumeId: string;
  newRegionId: string | null;
  state: RegionReplacementState;
  operatingSagaId: string | null;
  readonly requestTimeMs: number;
}

/** region_replacement_step: an action a drive saga took (only Propolis steps: no Pantry here). */
export interface RegionReplacementStepRow {
  readonly replacementId: string;
  readonly stepTimeMs: number;
  readonly instanceId: string;
  readonly vmmId: string;
}

/** upstairs_repair_notification: an upstairs reported a repair of `target` finished. */
export interface RepairNotificationRow {
  readonly upstairsId: string;
  readonly repairType: 'Reconciliation' | 'Live';
  readonly target: string;
  readonly succeeded: boolean;
  readonly timeMs: number;
}

export interface Tables {
  readonly instance: Map<string, InstanceRow>;
  readonly vmm: Map<string, VmmRow>;
  readonly migration: Map<string, MigrationRow>;
  readonly saga: Map<string, SagaRow>;
  readonly provisioning: Map<string, ProvisioningRow>;
  /** Per instance, how many of its sagas are running or unwinding: an index over the saga log. */
  readonly sagasInFlight: Map<string, number>;
  /** virtual_provisioning_collection: what the charged rows add up to. */
  readonly collection: { cpus: number; ramMib: number };
  readonly disk: Map<string, DiskRow>;
  readonly volume: Map<string, VolumeRow>;
  readonly region: Map<string, RegionRow>;
  /** Physical disks, by the downstairs they hold; true once expunged. */
  readonly physicalDisk: Map<string, { expunged: boolean }>;
  readonly regionReplacement: Map<string, RegionReplacementRow>;
  readonly regionReplacementStep: RegionReplacementStepRow[];
  readonly repairNotification: RepairNotificationRow[];
  /** volume_repair: at most one repair per volume, by the id of the request holding it. */
  readonly volumeRepair: Map<string, string>;
  readonly snapshot: Map<string, SnapshotRow>;
  readonly regionSnapshot: Map<string, RegionSnapshotRow>;
  readonly volumeResourceUsage: UsageRow[];
  readonly regionSnapshotReplacement: Map<string, RsrRow>;
  readonly regionSnapshotReplacementStep: Map<string, RsrStepRow>;
  /** Bumped by every committed write, so observers can skip unchanged snapshots. */
  writes: number;
  /** Bumped by every write to volumes, regions, region snapshots, usage rows, locks and replacement records. */
  storageWrites: number;
}

export function emptyTables(): Tables {
  return {
    instance: new Map(),
    vmm: new Map(),
    migration: new Map(),
    saga: new Map(),
    sagasInFlight: new Map(),
    provisioning: new Map(),
    collection: { cpus: 0, ramMib: 0 },
    disk: new Map(),
    volume: new Map(),
    region: new Map(),
    physicalDisk: new Map(),
    regionReplacement: new Map(),
    regionReplacementStep: [],
    repairNotification: [],
    volumeRepair: new Map(),
    snapshot: new Map(),
    regionSnapshot: new Map(),
    volumeResourceUsage: [],
    regionSnapshotReplacement: new Map(),
    regionSnapshotReplacementStep: new Map(),
    writes: 0,
    storageWrites: 0,
  };
}

export function write(tables: Tables, fn: () => void): void {
  fn();
  tables.writes++;
}

/** A write to the storage records (storageWrites), which the volume oracle watches. */
export function writeStorage(tables: Tables, fn: () => void): void {
  write(tables, fn);
  tables.storageWrites++;
}

export function runtimeOf(row: InstanceRow): InstanceRuntime {
  const { state, stateGeneration, activePropolisId, targetPropolisId, migrationId } = row;
  return { state, stateGeneration, activePropolisId, targetPropolisId, migrationId };
}
