// Dispatch of the snapshot and volume reference-count transactions (queries-snapshots.ts); the
// few that read across tables (the clone source, the disk holding a volume) are here.

import { panic, unreachable } from '../../assert.ts';
import type { CloneSource, RegionView, SnapshotQueries } from '../queries-snapshots.ts';
import { writeStorage, type RegionRow, type Tables } from '../tables.ts';
import * as rsr from './region-snapshot-replacement.ts';
import * as storage from './storage.ts';
import * as usage from './volume-usage.ts';

export const SNAPSHOT_QUERY_TYPES: ReadonlySet<string> = new Set<keyof SnapshotQueries>([
  'DatasetGone', 'VolumeCreate', 'VolumeSoftDelete', 'VolumeHardDelete', 'VolumeFetch', 'VolumeReplaceSnapshot', 'FindDeletedVolumeRegions',
  'RegionAllocate', 'RegionsHardDelete', 'RegionsFetch', 'AllocatedRegions', 'RegionSnapshotInsert', 'RegionSnapshotRemove', 'RegionSnapshotFetch',
  'DiskInsert', 'DiskHardDelete', 'DiskFetch', 'DiskSoftDelete', 'DiskUndeleteSetFaulted', 'DiskSetAttachment', 'DiskForVolume', 'SnapshotInsert', 'SnapshotUndeleteSetFaulted', 'SnapshotSetState',
  'SnapshotSoftDelete', 'SnapshotFetch', 'VolumeRepairLock', 'VolumeRepairUnlock', 'RsrInsert', 'RsrTransition', 'RsrListIn', 'RsrFetch',
  'RegionSnapshotsToReplace', 'RsrCloneSource', 'RsrStepInsert', 'RsrStepTransition', 'RsrStepsIn', 'RsrStepsInProgress', 'VolumesReferencing', 'StorageList',
]);

export type SnapshotRequest = { [K in keyof SnapshotQueries]: { type: K } & SnapshotQueries[K]['req'] }[keyof SnapshotQueries];

function view(r: RegionRow): RegionView {
  return { regionId: r.id, dataset: r.dataset, address: r.downstairs, readOnly: r.readOnly };
}

function expunged(tables: Tables, dataset: string): boolean {
  return tables.physicalDisk.get(dataset)?.expunged !== false;
}

/**
 * rsrss_get_clone_source: another region snapshot of the same snapshot on a disk in service; else
 * a read-only region of the snapshot volume in service; else the target itself if its disk is in
 * service; else none. Upstream pops the last of an unordered list: here the last by key.
 */
function cloneSource(tables: Tables, requestId: string): CloneSource {
  const request = tables.regionSnapshotReplacement.get(requestId);
  if (request === undefined) return { ok: false, error: `request ${requestId} not found` };
  const others = [...tables.regionSnapshot.values()].filter((rs) => rs.snapshotId === request.oldSnapshotId && rs.key !== request.oldRegionSnapshot && !expunged(tables, rs.dataset));
  others.sort((a, b) => (a.key < b.key ? -1 : 1));
  if (others.length > 0) return { ok: true, address: others[others.length - 1]!.address };
  const snapshot = tables.snapshot.get(request.oldSnapshotId);
  if (snapshot === undefined) return { ok: false, error: `snapshot ${request.oldSnapshotId} was hard deleted!` };
  const regions = [...tables.region.values()].filter((r) => r.volumeId === snapshot.volumeId && r.readOnly && !expunged(tables, r.dataset));
  regions.sort((a, b) => (a.id < b.id ? -1 : 1));
  if (regions.length > 0) return { ok: true, address: regions[regions.length - 1]!.downstairs };
  const own = tables.regionSnapshot.get(request.oldRegionSnapshot);
  if (own !== undefined && !expunged(tables, own.dataset)) return { ok: true, address: own.address };
  return { ok: false, error: `no clone source candidate for ${request.oldSnapshotId}!` };
}

function diskForVolume(tables: Tables, volumeId: string): SnapshotQueries['DiskForVolume']['rep'] {
  const disk = [...tables.disk.values()].find((d) => d.volumeId === volumeId);
  if (disk === undefined) return { diskId: null, instanceId: null, vmm: null };
  const instance = disk.instanceId === null ? undefined : tables.instance.get(disk.instanceId);
  const vmm = instance?.activePropolisId == null ? undefined : tables.vmm.get(instance.activePropolisId);
  return { diskId: disk.id, instanceId: disk.instanceId, vmm: vmm === undefined ? null : { id: vmm.id, sledId: vmm.sledId, state: vmm.state } };
}

function unlock(tables: Tables, volumeId: string, repairId: string): { ok: boolean } {
  if (tables.volumeRepair.get(volumeId) === repairId) writeStorage(tables, () => tables.volumeRepair.delete(volumeId));
  if (tables.volumeRepair.get(volumeId) === repairId) panic(`volume ${volumeId}: still locked by ${repairId} after unlock`);
  return { ok: true };
}

function lock(tables: Tables, volumeId: string, repairId: string): rsr.LockResult {
  const can = rsr.canLock(tables, volumeId, repairId, false);
  if (can.ok && tables.volumeRepair.get(volumeId) !== repairId) writeStorage(tables, () => tables.volumeRepair.set(volumeId, repairId));
  if (!(!can.ok || tables.volumeRepair.get(volumeId) === repairId)) panic(`volume ${volumeId}: locked for ${repairId}, held by another`);
  return can;
}

export function executeSnapshots(tables: Tables, q: SnapshotRequest, nowMs: number): unknown {
  switch (q.type) {
    case 'DatasetGone':
      return { gone: expunged(tables, q.dataset) };
    case 'VolumeCreate':
      return usage.volumeCreate(tables, q.volumeId, q.vcr);
    case 'VolumeSoftDelete':
      return { resources: usage.softDeleteVolume(tables, q.volumeId, nowMs) };
    case 'VolumeHardDelete':
      return usage.volumeHardDelete(tables, q.volumeId, q.leakUsage);
    case 'VolumeFetch': {
      const v = tables.volume.get(q.volumeId);
      return { volume: v === undefined ? null : { ...v } };
    }
    case 'VolumeReplaceSnapshot':
      return usage.volumeReplaceSnapshot(tables, q);
    case 'FindDeletedVolumeRegions':
      return usage.findDeletedVolumeRegions(tables, q.earlyVolume);
    case 'RegionAllocate':
      return { regions: storage.regionAllocate(tables, q) };
    case 'RegionsHardDelete':
      return storage.regionsHardDelete(tables, q.regionIds);
    case 'RegionsFetch':
      return { regions: q.regionIds.flatMap((id) => (tables.region.has(id) ? [view(tables.region.get(id)!)] : [])) };
    case 'AllocatedRegions':
      return { regions: [...tables.region.values()].filter((r) => r.volumeId === q.volumeId).map(view) };
    case 'RegionSnapshotInsert':
      return { row: storage.regionSnapshotInsert(tables, q) };
    case 'RegionSnapshotRemove':
      return storage.regionSnapshotRemove(tables, q.key);
    case 'RegionSnapshotFetch': {
      const row = tables.regionSnapshot.get(q.key);
      return { row: row === undefined ? null : { ...row } };
    }
    default:
      return executeRecords(tables, q, nowMs);
  }
}

function executeRecords(tables: Tables, q: SnapshotRequest, nowMs: number): unknown {
  switch (q.type) {
    case 'DiskInsert':
      return storage.diskInsert(tables, q);
    case 'DiskHardDelete': {
      const had = tables.disk.has(q.diskId);
      if (had) writeStorage(tables, () => tables.disk.delete(q.diskId));
      if (tables.disk.has(q.diskId)) panic(`disk ${q.diskId}: hard-deleted, still present`);
      return { deleted: had };
    }
    case 'DiskFetch': {
      const d = tables.disk.get(q.diskId);
      return { disk: d === undefined ? null : { ...d } };
    }
    case 'DiskSoftDelete':
      return storage.diskSoftDelete(tables, q.diskId, nowMs);
    case 'DiskUndeleteSetFaulted':
      return storage.diskUndeleteSetFaulted(tables, q.diskId);
    case 'DiskSetAttachment':
      return storage.diskSetAttachment(tables, q.diskId, q.instanceId);
    case 'DiskForVolume':
      return diskForVolume(tables, q.volumeId);
    case 'SnapshotUndeleteSetFaulted':
      return storage.snapshotUndeleteSetFaulted(tables, q.snapshotId);
    case 'SnapshotInsert':
      return storage.snapshotInsert(tables, q);
    case 'SnapshotSetState':
      return storage.snapshotSetState(tables, q.snapshotId, q.state);
    case 'SnapshotSoftDelete':
      return storage.snapshotSoftDelete(tables, q.snapshotId, nowMs, q.anyState);
    case 'SnapshotFetch': {
      const s = tables.snapshot.get(q.snapshotId);
      return { snapshot: s === undefined ? null : { ...s } };
    }
    case 'VolumeRepairLock':
      return lock(tables, q.volumeId, q.repairId);
    case 'VolumeRepairUnlock':
      return unlock(tables, q.volumeId, q.repairId);
    case 'StorageList':
      return {
        disks: [...tables.disk.values()].filter((d) => d.timeDeleted == null).map((d) => ({ id: d.id, instanceId: d.instanceId })),
        snapshots: [...tables.snapshot.values()].filter((s) => s.timeDeleted === null).map((s) => ({ id: s.id, state: s.state })),
      };
    default:
      return executeReplacement(tables, q, nowMs);
  }
}

function executeReplacement(tables: Tables, q: SnapshotRequest, nowMs: number): unknown {
  switch (q.type) {
    case 'RsrInsert':
      return rsr.rsrInsert(tables, q, nowMs);
    case 'RsrTransition':
      return rsr.rsrTransition(tables, q);
    case 'RsrListIn':
      return { requests: rsr.rsrListIn(tables, q.state) };
    case 'RsrFetch': {
      const r = tables.regionSnapshotReplacement.get(q.requestId);
      return { request: r === undefined ? null : { ...r } };
    }
    case 'RegionSnapshotsToReplace':
      return { keys: rsr.regionSnapshotsToReplace(tables, q.includeCreating) };
    case 'RsrCloneSource':
      return cloneSource(tables, q.requestId);
    case 'RsrStepInsert':
      return rsr.rsrStepInsert(tables, q);
    case 'RsrStepTransition':
      return rsr.rsrStepTransition(tables, q);
    case 'RsrStepsIn':
      return { steps: rsr.rsrStepsIn(tables, q.state) };
    case 'RsrStepsInProgress':
      return { count: rsr.rsrStepsInProgress(tables, q.requestId) };
    case 'VolumesReferencing':
      return { volumes: rsr.volumesReferencing(tables, q.target) };
    default:
      return unreachable(q as never, 'snapshot storage request');
  }
}
