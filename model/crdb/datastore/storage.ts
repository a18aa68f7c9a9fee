// Disks, snapshots, regions and region snapshots as records (omicron b848b6df85: datastore/disk.rs,
// snapshot.rs, region.rs, region_snapshot.rs and queries/region_allocation.rs), for the sagas that
// make and delete them. Every function is one transaction.
// - Region allocation ensures N regions for a volume (a re-run returns the same ones), each on a
//   different dataset that is not expunged and holds none of the volume's regions (nor, for a
//   snapshot's read-only region, any region snapshot of that snapshot); least used first, then by
//   name (upstream picks at random among those with room). Region ids are never reused.
// - A region's address is known when it is allocated (upstream learns the port from the agent and
//   the agent reuses ports of destroyed regions; here addresses are never reused: README).
// - A disk is deleted (and detached, attached) only while its instance has no VMM, as upstream
//   asks of a disk attached to an instance.

import { panic, panicUnless } from '../../assert.ts';
import { writeStorage, type DiskRow, type RegionSnapshotRow, type SnapshotRow, type Tables } from '../tables.ts';

export interface AllocatedRegion {
  readonly regionId: string;
  readonly dataset: string;
  readonly address: string;
}

export interface RegionAllocateArgs {
  readonly volumeId: string;
  readonly count: number;
  readonly readOnly: boolean;
  /** A read-only region for this snapshot avoids the datasets of its region snapshots. */
  readonly snapshotId: string | null;
}

export function regionAllocate(tables: Tables, a: RegionAllocateArgs): AllocatedRegion[] | null {
  const existing = [...tables.region.values()].filter((r) => r.volumeId === a.volumeId && r.readOnly === a.readOnly);
  if (existing.length >= a.count) return existing.map(allocated);
  const avoid = new Set([...tables.region.values()].filter((r) => r.volumeId === a.volumeId).map((r) => r.dataset));
  if (a.snapshotId !== null) for (const rs of tables.regionSnapshot.values()) if (rs.snapshotId === a.snapshotId) avoid.add(rs.dataset);
  const load = new Map<string, number>();
  for (const r of tables.region.values()) load.set(r.dataset, (load.get(r.dataset) ?? 0) + 1);
  const candidates = [...tables.physicalDisk].filter(([d, disk]) => !disk.expunged && !avoid.has(d)).map(([d]) => d);
  candidates.sort((x, y) => (load.get(x) ?? 0) - (load.get(y) ?? 0) || (x < y ? -1 : x > y ? 1 : 0));
  const needed = a.count - existing.length;
  if (candidates.length < needed) return null;
  const seq = tables.writes;
  writeStorage(tables, () => {
    for (let i = 0; i < needed; i++) {
      const dataset = candidates[i]!;
      const id = `region-${seq}-${i}`;
      // Region ids are never reused: `seq` (the write count) is new to every allocation.
      if (tables.region.has(id)) panic(`region ${id} allocated twice`);
      tables.region.set(id, { id, volumeId: a.volumeId, downstairs: `${dataset}:${id}`, timeDeleted: null, dataset, readOnly: a.readOnly, deleting: false });
    }
  });
  const regions = [...tables.region.values()].filter((r) => r.volumeId === a.volumeId && r.readOnly === a.readOnly).map(allocated);
  if (regions.length !== a.count) panic(`volume ${a.volumeId}: ${regions.length} regions allocated of ${a.count}`);
  return regions;
}

function allocated(r: { id: string; dataset: string; downstairs: string }): AllocatedRegion {
  return { regionId: r.id, dataset: r.dataset, address: r.downstairs };
}

/** regions_hard_delete. */
export function regionsHardDelete(tables: Tables, regionIds: readonly string[]): { deleted: number } {
  const present = regionIds.filter((id) => tables.region.has(id));
  if (present.length > 0) writeStorage(tables, () => present.forEach((id) => tables.region.delete(id)));
  panicUnless(!present.some((id) => tables.region.has(id)), 'regions hard-deleted, still present');
  return { deleted: present.length };
}

export function regionSnapshotAddress(dataset: string, regionId: string, snapshotId: string): string {
  return `${dataset}:${regionId}@${snapshotId}`;
}

/** region_snapshot_create (ON CONFLICT DO NOTHING). */
export function regionSnapshotInsert(tables: Tables, r: { dataset: string; regionId: string; snapshotId: string }): RegionSnapshotRow {
  const key = `${r.regionId}@${r.snapshotId}`;
  const found = tables.regionSnapshot.get(key);
  if (found !== undefined) return { ...found };
  const row: RegionSnapshotRow = { key, dataset: r.dataset, regionId: r.regionId, snapshotId: r.snapshotId, address: regionSnapshotAddress(r.dataset, r.regionId, r.snapshotId), deleting: false };
  writeStorage(tables, () => tables.regionSnapshot.set(key, row));
  if (tables.regionSnapshot.get(key) !== row) panic(`region snapshot ${key}: not inserted`);
  return { ...row };
}

export function regionSnapshotRemove(tables: Tables, key: string): { removed: boolean } {
  if (!tables.regionSnapshot.has(key)) return { removed: false };
  writeStorage(tables, () => tables.regionSnapshot.delete(key));
  if (tables.regionSnapshot.has(key)) panic(`region snapshot ${key}: removed, still present`);
  return { removed: true };
}

export function diskInsert(tables: Tables, d: { diskId: string; volumeId: string; snapshotId: string | null }): { inserted: boolean } {
  if (tables.disk.has(d.diskId)) return { inserted: true };
  writeStorage(tables, () => tables.disk.set(d.diskId, { id: d.diskId, instanceId: null, volumeId: d.volumeId, snapshotId: d.snapshotId, timeDeleted: null }));
  if (tables.disk.get(d.diskId)?.volumeId !== d.volumeId) panic(`disk ${d.diskId}: not inserted`);
  return { inserted: true };
}

/** Whether the disk's instance (if any) has no VMM: the only time its disks may change. */
function instanceStopped(tables: Tables, disk: DiskRow): boolean {
  if (disk.instanceId === null) return true;
  const instance = tables.instance.get(disk.instanceId);
  return instance === undefined || instance.activePropolisId === null;
}

export type DiskChange = { readonly ok: true; readonly volumeId: string } | { readonly ok: false; readonly error: string };

/** project_delete_disk: marks the disk deleted; refused while attached. Idempotent. */
export function diskSoftDelete(tables: Tables, diskId: string, nowMs: number): DiskChange {
  const disk = tables.disk.get(diskId);
  if (disk === undefined) return { ok: false, error: 'NotFound' };
  if (disk.timeDeleted != null) return { ok: true, volumeId: disk.volumeId };
  if (disk.instanceId !== null) return { ok: false, error: 'disk is attached' };
  writeStorage(tables, () => (disk.timeDeleted = nowMs));
  if (!(tables.disk.get(diskId)?.timeDeleted === nowMs && disk.instanceId === null)) panic(`disk ${diskId}: not deleted`);
  return { ok: true, volumeId: disk.volumeId };
}

/** project_undelete_disk_set_faulted_no_auth: a deleted disk back (its volume untouched), Faulted. */
export function diskUndeleteSetFaulted(tables: Tables, diskId: string): { undeleted: boolean } {
  const disk = tables.disk.get(diskId);
  if (disk === undefined || disk.timeDeleted == null) return { undeleted: false };
  if (disk.instanceId !== null) panic(`disk ${diskId} was deleted while attached`);
  writeStorage(tables, () => {
    disk.timeDeleted = null;
    disk.faulted = true;
  });
  if (!(tables.disk.get(diskId)?.timeDeleted === null && disk.faulted === true)) panic(`disk ${diskId}: not undeleted as Faulted`);
  return { undeleted: true };
}

/** instance_attach_disk / instance_detach_disk: only while the instance has no VMM; a Faulted disk is not attached. */
export function diskSetAttachment(tables: Tables, diskId: string, instanceId: string | null): DiskChange {
  const disk = tables.disk.get(diskId);
  if (disk === undefined || disk.timeDeleted != null) return { ok: false, error: 'NotFound' };
  if (disk.instanceId === instanceId) return { ok: true, volumeId: disk.volumeId };
  if (instanceId !== null && disk.faulted === true) return { ok: false, error: 'disk is Faulted' };
  const target: DiskRow = { ...disk, instanceId };
  if (!instanceStopped(tables, disk) || !instanceStopped(tables, target)) return { ok: false, error: 'instance must be stopped' };
  if (instanceId !== null && disk.instanceId !== null) return { ok: false, error: 'disk is attached elsewhere' };
  writeStorage(tables, () => (disk.instanceId = instanceId));
  if (!(disk.instanceId === instanceId && disk.timeDeleted == null)) panic(`disk ${diskId}: attachment to ${instanceId} did not take`);
  return { ok: true, volumeId: disk.volumeId };
}

export function snapshotInsert(tables: Tables, s: { snapshotId: string; diskId: string; volumeId: string }): { inserted: boolean } {
  if (tables.snapshot.has(s.snapshotId)) return { inserted: true };
  const disk = tables.disk.get(s.diskId);
  if (disk === undefined || disk.timeDeleted != null) return { inserted: false };
  writeStorage(tables, () => tables.snapshot.set(s.snapshotId, { id: s.snapshotId, diskId: s.diskId, volumeId: s.volumeId, state: 'Creating', timeDeleted: null }));
  if (tables.snapshot.get(s.snapshotId)?.state !== 'Creating') panic(`snapshot ${s.snapshotId}: not inserted Creating`);
  return { inserted: true };
}

export function snapshotSetState(tables: Tables, snapshotId: string, state: SnapshotRow['state']): { ok: boolean } {
  const s = tables.snapshot.get(snapshotId);
  if (s === undefined) return { ok: false };
  if (s.state !== state) writeStorage(tables, () => (s.state = state));
  if (tables.snapshot.get(snapshotId)?.state !== state) panic(`snapshot ${snapshotId}: not ${state}`);
  return { ok: true };
}

/** project_delete_snapshot: soft delete of a Ready snapshot (any, for an unwinding create); the row stays (RSR still reads it). */
export function snapshotSoftDelete(tables: Tables, snapshotId: string, nowMs: number, anyState: boolean): DiskChange {
  const s = tables.snapshot.get(snapshotId);
  if (s === undefined) return { ok: false, error: 'NotFound' };
  if (s.timeDeleted !== null) return { ok: true, volumeId: s.volumeId };
  // project_delete_snapshot: Ready or Faulted (a Creating one belongs to its saga).
  if (s.state !== 'Ready' && s.state !== 'Faulted' && !anyState) return { ok: false, error: `snapshot is ${s.state}` };
  writeStorage(tables, () => {
    s.timeDeleted = nowMs;
    s.state = 'Destroyed';
  });
  if (tables.snapshot.get(snapshotId)?.timeDeleted !== nowMs) panic(`snapshot ${snapshotId}: not deleted`);
  return { ok: true, volumeId: s.volumeId };
}

/** A soft-deleted snapshot back (its volume as the delete left it), Faulted: deletable, not usable. */
export function snapshotUndeleteSetFaulted(tables: Tables, snapshotId: string): { undeleted: boolean } {
  const s = tables.snapshot.get(snapshotId);
  if (s === undefined || s.timeDeleted === null) return { undeleted: false };
  if (s.state !== 'Destroyed') panic(`snapshot ${snapshotId} deleted but ${s.state}`);
  writeStorage(tables, () => {
    s.timeDeleted = null;
    s.state = 'Faulted';
  });
  if (tables.snapshot.get(snapshotId)?.timeDeleted !== null) panic(`snapshot ${snapshotId}: not undeleted`);
  return { undeleted: true };
}

export function snapshotHardDelete(tables: Tables, snapshotId: string): { deleted: boolean } {
  if (!tables.snapshot.has(snapshotId)) return { deleted: false };
  writeStorage(tables, () => tables.snapshot.delete(snapshotId));
  if (tables.snapshot.has(snapshotId)) panic(`snapshot ${snapshotId}: hard-deleted, still present`);
  return { deleted: true };
}
