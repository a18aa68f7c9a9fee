// One request, one transaction: the CockroachDB node runs each to completion within one step.

import { unreachable } from '../../assert.ts';
import type { DbRequest } from '../queries.ts';
import type { Tables } from '../tables.ts';
import * as instance from './instance.ts';
import * as migration from './migration.ts';
import { provisioningDeleteInstance, provisioningInsertInstance } from './provisioning.ts';
import * as sagaLog from './saga-log.ts';
import { instanceCommitUpdate, updaterInherit, updaterLock, updaterUnlock } from './updater-lock.ts';
import * as vmm from './vmm.ts';
import * as replacement from './region-replacement.ts';
import * as volume from './volume.ts';
import { executeSnapshots, SNAPSHOT_QUERY_TYPES, type SnapshotRequest } from './execute-snapshots.ts';

/** The requests of the storage tables (volumes, regions, replacements): dispatched by executeStorage. */
const STORAGE_TYPES = [
  'VolumeCheckoutForInstance',
  'VolumeGet',
  'VolumeReplaceRegion',
  'PhysicalDiskExpunge',
  'RegionsToReplace',
  'RegionReplacementInsert',
  'RegionReplacementsIn',
  'RegionReplacementTransition',
  'RegionAllocateReplacement',
  'RegionDelete',
  'RegionReplacementView',
  'RegionReplacementStepInsert',
  'UpstairsRepairNotify',
  'RegionReplacementRepairFinished',
] as const;
const STORAGE: ReadonlySet<string> = new Set(STORAGE_TYPES);

type StorageRequest = Extract<DbRequest, { type: (typeof STORAGE_TYPES)[number] }>;

function isStorage(request: DbRequest): request is StorageRequest {
  return STORAGE.has(request.type);
}

export function execute(tables: Tables, request: DbRequest, nowMs: number): unknown {
  if (isStorage(request)) return executeStorage(tables, request, nowMs);
  if (SNAPSHOT_QUERY_TYPES.has(request.type)) return executeSnapshots(tables, request as SnapshotRequest, nowMs);
  return executeCore(tables, request as Exclude<DbRequest, SnapshotRequest | StorageRequest>, nowMs);
}

function executeCore(tables: Tables, request: Exclude<DbRequest, SnapshotRequest | StorageRequest>, nowMs: number): unknown {
  switch (request.type) {
    case 'InstanceCreate':
      return instance.instanceCreate(tables, request);
    case 'InstanceFetch':
      return instance.instanceFetch(tables, request.instanceId);
    case 'InstanceSetIntendedState':
      return instance.instanceSetIntendedState(tables, request.instanceId, request.intended);
    case 'InstanceMoveToStarting':
      return instance.instanceMoveToStarting(tables, request, nowMs);
    case 'InstanceMoveToStartingUndo':
      return instance.instanceMoveToStartingUndo(tables, request);
    case 'InstanceClearFailed':
      return instance.instanceClearFailed(tables, request);
    case 'InstanceDelete':
      return instance.instanceDelete(tables, request.instanceId, nowMs);
    case 'VmmInsert':
      return vmm.vmmInsert(tables, request, nowMs);
    case 'VmmUpdateRuntime':
      return vmm.vmmAndMigrationUpdate(tables, request);
    case 'MigrationInsert':
      return migration.migrationInsert(tables, request, nowMs);
    case 'MigrationMarkFailed':
      return migration.migrationMarkFailed(tables, request.migrationId);
    case 'InstanceSetMigrationIds':
      return migration.instanceSetMigrationIds(tables, request);
    case 'VmmMarkFailed':
      return vmm.vmmUpdateRuntime(tables, request.vmmId, { state: 'Failed', gen: request.gen }, vmm.SYNTHESIZED_FAILED_OVER);
    case 'VmmMarkSagaUnwound':
      return vmm.vmmMarkSagaUnwound(tables, request.vmmId);
    case 'VmmMarkDeleted':
      return vmm.vmmMarkDeleted(tables, request.vmmId, nowMs);
    case 'InstanceAndVmmListBySledAgent':
      return { vmms: vmm.vmmListOnSleds(tables) };
    case 'InstancesNeedingUpdate':
      return { instanceIds: vmm.instancesNeedingUpdate(tables) };
    case 'VmmListAbandoned':
      return { vmms: vmm.vmmListAbandoned(tables) };
    case 'InstancesReincarnatable':
      return { instanceIds: vmm.instancesReincarnatable(tables, request.nowMs, request.cooldownMs) };
    case 'UpdaterLock':
      return updaterLock(tables, request.instanceId, request.sagaId);
    case 'UpdaterInherit':
      return updaterInherit(tables, request.instanceId, request.parent, request.child);
    case 'UpdaterUnlock':
      return updaterUnlock(tables, request.instanceId, request.lock);
    case 'InstanceCommitUpdate':
      return instanceCommitUpdate(tables, request);
    case 'ProvisioningInsertInstance':
      return provisioningInsertInstance(tables, request.instanceId, request.vmmId);
    case 'ProvisioningDeleteInstance':
      return provisioningDeleteInstance(tables, request.instanceId, request.vmmId);
    case 'SagaCreate':
      return sagaLog.sagaCreate(tables, request);
    case 'SagaNodeDone':
      return sagaLog.sagaNodeDone(tables, request.sagaId, request.node, request.output);
    case 'SagaUnwind':
      return sagaLog.sagaUnwind(tables, request.sagaId, request.error);
    case 'SagaNodeUndone':
      return sagaLog.sagaNodeUndone(tables, request.sagaId, request.node);
    case 'SagaFinish':
      return sagaLog.sagaFinish(tables, request.sagaId, request.state);
    case 'SagaListUnfinished':
      return { sagas: sagaLog.sagaListUnfinished(tables, request.owner) };
    case 'SagaFetch':
      return sagaLog.sagaFetch(tables, request.sagaId);
    default:
      return unreachable(request, 'database request');
  }
}

function executeStorage(tables: Tables, request: StorageRequest, nowMs: number): unknown {
  switch (request.type) {
    case 'VolumeCheckoutForInstance':
      return { disks: volume.volumeCheckoutForInstance(tables, request.instanceId) };
    case 'VolumeGet':
      return { vcr: volume.volumeGet(tables, request.volumeId) };
    case 'VolumeReplaceRegion':
      return { result: volume.volumeReplaceRegion(tables, request) };
    case 'PhysicalDiskExpunge':
      return volume.physicalDiskExpunge(tables, request.downstairs);
    case 'RegionsToReplace':
      return { regions: replacement.regionsToReplace(tables) };
    case 'RegionReplacementInsert':
      return replacement.regionReplacementInsert(tables, request, nowMs);
    case 'RegionReplacementsIn':
      return { requests: replacement.regionReplacementsIn(tables, request.state) };
    case 'RegionReplacementTransition':
      return replacement.regionReplacementTransition(tables, request);
    case 'RegionAllocateReplacement':
      return { region: replacement.regionAllocateReplacement(tables, request) };
    case 'RegionDelete':
      return replacement.regionDelete(tables, request.regionId, nowMs);
    case 'RegionReplacementView':
      return replacement.regionReplacementView(tables, request.replacementId);
    case 'RegionReplacementStepInsert':
      return replacement.regionReplacementStepInsert(tables, request);
    case 'UpstairsRepairNotify':
      return replacement.upstairsRepairNotify(tables, request, nowMs);
    case 'RegionReplacementRepairFinished':
      return { finished: replacement.repairFinishedFor(tables, request.replacementId) };
    default:
      return unreachable(request, 'storage request');
  }
}
