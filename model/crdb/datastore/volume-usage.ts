// Volumes and what they hold on to (nexus/db-queries/src/db/datastore/volume.rs, omicron
// b848b6df85, after #6805 and #7046): every read-only target a live volume names has one
// volume_resource_usage row for that volume; the last row going marks the target `deleting` and
// hands it to the caller for cleanup. Each function is one transaction.
// - volume_create: idempotent by id (a second create bumps nothing); a read-only target must be a
//   live record (region snapshot first, then read-only region), not deleting, else nothing is written.
// - soft_delete_volume: idempotent, a second call returns the cleanup list stored by the first;
//   read-write regions are returned only if no region snapshot exists for them.
// - volume_hard_delete: the row goes. Upstream leaves the volume's usage rows behind (#7855, PR
//   #7852 open); we delete them, and `leakUsage` (bug switch nexus/hard-delete-leaks-usage) keeps
//   upstream's leak.
// - find_deleted_volume_regions: read-write regions of soft-deleted volumes with no region
//   snapshot; a volume is returned for hard deletion only when every read-write region it has is
//   among them (`earlyVolume`, bug switch nexus/rw-sweep-returns-volume-early, returns the volume
//   of every region found, as before #7046).
// - volume_replace_snapshot: the swap of one read-only target, rows following it (see below).

import { panic } from '../../assert.ts';
import { readOnlyTargets, replaceReadOnlyTarget, singleRegionVolume } from '../../crucible/vcr-targets.ts';
import type { Vcr } from '../../crucible/vcr.ts';
import { writeStorage, type CrucibleResources, type Tables, type UsageRow } from '../tables.ts';

export type ResolvedTarget = Pick<UsageRow, 'kind' | 'resource'>;

/** read_only_target_to_volume_resource_usage: a live region snapshot at that address, else a live read-only region. */
export function resolveReadOnlyTarget(tables: Tables, target: string): ResolvedTarget | null {
  for (const rs of tables.regionSnapshot.values()) if (rs.address === target && !rs.deleting) return { kind: 'RegionSnapshot', resource: rs.key };
  for (const r of tables.region.values()) if (r.downstairs === target && r.readOnly && !r.deleting) return { kind: 'ReadOnlyRegion', resource: r.id };
  return null;
}

export function usageCount(tables: Tables, resource: string): number {
  let n = 0;
  for (const u of tables.volumeResourceUsage) if (u.resource === resource) n++;
  return n;
}

export type VolumeCreateResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

export function volumeCreate(tables: Tables, volumeId: string, vcr: Vcr): VolumeCreateResult {
  if (tables.volume.has(volumeId)) return { ok: true };
  const targets = [...new Set(readOnlyTargets(vcr))];
  const resolved: ResolvedTarget[] = [];
  for (const t of targets) {
    const r = resolveReadOnlyTarget(tables, t);
    if (r === null) return { ok: false, error: `CouldNotFindResource: ${t}` };
    resolved.push(r);
  }
  writeStorage(tables, () => {
    tables.volume.set(volumeId, { id: volumeId, vcr, timeDeleted: null, resourcesToCleanUp: null });
    for (const r of resolved) tables.volumeResourceUsage.push({ volumeId, ...r });
  });
  if (resolved.some((r) => usageCount(tables, r.resource) === 0)) panic(`volume ${volumeId}: a usage row that did not land`);
  return { ok: true };
}

const NOTHING: CrucibleResources = { regions: [], regionSnapshots: [] };

export function softDeleteVolume(tables: Tables, volumeId: string, nowMs: number): CrucibleResources {
  const volume = tables.volume.get(volumeId);
  if (volume === undefined) return NOTHING;
  if (volume.timeDeleted !== null) return volume.resourcesToCleanUp ?? NOTHING;
  const snapshotted = new Set([...tables.regionSnapshot.values()].map((rs) => rs.regionId));
  const regions = [...tables.region.values()].filter((r) => r.volumeId === volumeId && !r.readOnly && !snapshotted.has(r.id)).map((r) => r.id);
  const released = tables.volumeResourceUsage.filter((u) => u.volumeId === volumeId);
  const regionSnapshots: string[] = [];
  writeStorage(tables, () => {
    removeUsageOf(tables, volumeId);
    for (const u of released) {
      if (usageCount(tables, u.resource) > 0) continue;
      if (u.kind === 'RegionSnapshot') {
        const rs = tables.regionSnapshot.get(u.resource);
        if (rs === undefined || rs.deleting) continue;
        rs.deleting = true;
        regionSnapshots.push(rs.key);
      } else {
        const region = tables.region.get(u.resource);
        if (region === undefined || region.deleting) continue;
        region.deleting = true;
        regions.push(region.id);
      }
    }
    volume.timeDeleted = nowMs;
    volume.resourcesToCleanUp = { regions, regionSnapshots };
  });
  if (tables.volumeResourceUsage.some((u) => u.volumeId === volumeId)) panic(`volume ${volumeId}: soft-deleted with usage left`);
  return volume.resourcesToCleanUp!;
}

function removeUsageOf(tables: Tables, volumeId: string): void {
  const rows = tables.volumeResourceUsage;
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i]!.volumeId === volumeId) rows.splice(i, 1);
}

export function volumeHardDelete(tables: Tables, volumeId: string, leakUsage: boolean): { deleted: boolean } {
  if (!tables.volume.has(volumeId)) return { deleted: false };
  writeStorage(tables, () => {
    tables.volume.delete(volumeId);
    if (!leakUsage) removeUsageOf(tables, volumeId);
  });
  if (!(!tables.volume.has(volumeId) && (leakUsage || !tables.volumeResourceUsage.some((u) => u.volumeId === volumeId)))) panic(`volume ${volumeId}: hard-deleted, still present or still using`);
  return { deleted: true };
}

export interface FreedResources {
  readonly regions: readonly { readonly regionId: string; readonly dataset: string }[];
  readonly volumes: readonly string[];
}

export function findDeletedVolumeRegions(tables: Tables, earlyVolume: boolean): FreedResources {
  const snapshotted = new Set([...tables.regionSnapshot.values()].map((rs) => rs.regionId));
  const regions: { regionId: string; dataset: string }[] = [];
  const volumes = new Set<string>();
  for (const r of tables.region.values()) {
    if (r.readOnly || snapshotted.has(r.id)) continue;
    const volume = tables.volume.get(r.volumeId);
    if (volume === undefined || volume.timeDeleted === null) continue;
    regions.push({ regionId: r.id, dataset: r.dataset });
    volumes.add(r.volumeId);
  }
  const freed = new Set(regions.map((r) => r.regionId));
  const hardDeletable = [...volumes].filter((v) => earlyVolume || allocatedRegions(tables, v).every((r) => r.readOnly || freed.has(r.id)));
  return { regions, volumes: hardDeletable };
}

/** get_allocated_regions: the region rows that name this volume. */
export function allocatedRegions(tables: Tables, volumeId: string): { id: string; dataset: string; readOnly: boolean }[] {
  return [...tables.region.values()].filter((r) => r.volumeId === volumeId).map((r) => ({ id: r.id, dataset: r.dataset, readOnly: r.readOnly }));
}

export type ReplaceSnapshotResult = 'Done' | 'AlreadyHappened' | 'ExistingVolumeSoftDeleted' | 'ExistingVolumeHardDeleted';
export type ReplaceSnapshotOutcome = { readonly ok: true; readonly result: ReplaceSnapshotResult } | { readonly ok: false; readonly error: string };

export interface ReplaceSnapshotArgs {
  readonly volumeId: string;
  readonly existing: string;
  readonly replacement: string;
  /** The blank volume T moves into (VolumeToDelete). */
  readonly stash: string;
}

/**
 * volume_replace_snapshot: exactly one read-only occurrence of `existing` becomes `replacement`;
 * the stash now names `existing`; existing's row for the volume moves to the stash, and
 * replacement gains one for the volume (taken from the stash if the stash held it: the undo).
 */
export function volumeReplaceSnapshot(tables: Tables, a: ReplaceSnapshotArgs): ReplaceSnapshotOutcome {
  const volume = tables.volume.get(a.volumeId);
  if (volume === undefined) return { ok: true, result: 'ExistingVolumeHardDeleted' };
  if (volume.timeDeleted !== null) return { ok: true, result: 'ExistingVolumeSoftDeleted' };
  const present = readOnlyTargets(volume.vcr);
  if (!present.includes(a.existing) && present.includes(a.replacement)) return { ok: true, result: 'AlreadyHappened' };
  const swapped = replaceReadOnlyTarget(volume.vcr, a.existing, a.replacement);
  if (swapped.replaced !== 1) return { ok: false, error: swapped.replaced === 0 ? `target ${a.existing} not found!` : `UnexpectedReplacedTargets(${swapped.replaced}, 1)` };
  const stash = tables.volume.get(a.stash);
  if (stash === undefined || stash.timeDeleted !== null) return { ok: false, error: `UnexpectedDatabaseUpdate(0, 1): stash ${a.stash}` };
  const oldUsage = resolveReadOnlyTarget(tables, a.existing);
  const newUsage = resolveReadOnlyTarget(tables, a.replacement);
  if (oldUsage === null || newUsage === null) return { ok: false, error: `CouldNotFindResource: ${oldUsage === null ? a.existing : a.replacement}` };
  const oldRow = tables.volumeResourceUsage.find((u) => u.volumeId === a.volumeId && u.resource === oldUsage.resource);
  if (oldRow === undefined) return { ok: false, error: `NotFound: no usage of ${oldUsage.resource} by ${a.volumeId}` };
  const stashRows = tables.volumeResourceUsage.filter((u) => u.volumeId === a.stash && u.resource === newUsage.resource);
  if (stashRows.length > 1) return { ok: false, error: 'MultipleResourceUsageRecords' };
  writeStorage(tables, () => {
    volume.vcr = swapped.vcr;
    stash.vcr = singleRegionVolume(a.stash, [a.existing], true, 1, null, { extentCount: 1, blocksPerExtent: 1 });
    oldRow.volumeId = a.stash;
    if (stashRows.length === 1) stashRows[0]!.volumeId = a.volumeId;
    else tables.volumeResourceUsage.push({ volumeId: a.volumeId, ...newUsage });
  });
  if (readOnlyTargets(volume.vcr).includes(a.existing)) panic(`volume ${a.volumeId}: ${a.existing} still named after the swap`);
  if (!(readOnlyTargets(volume.vcr).includes(a.replacement) && readOnlyTargets(stash.vcr).includes(a.existing))) panic(`volume ${a.volumeId}: ${a.replacement} not named, or the stash does not hold ${a.existing}`);
  if (!(oldRow.volumeId === a.stash && usageCount(tables, newUsage.resource) >= 1)) panic(`volume ${a.volumeId}: usage rows did not follow the swap`);
  return { ok: true, result: 'Done' };
}
