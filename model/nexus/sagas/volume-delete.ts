// volume-delete (nexus/src/app/sagas/volume_delete.rs, omicron b848b6df85), as nodes other sagas
// append (upstream runs it as a subsaga of disk and snapshot delete and of the replacement
// garbage collection and finish sagas: the same nodes, logged the same way). No node has an undo.
// 1. soft delete: the usage rows go, and what nothing uses any more comes back for cleanup;
// 2. those regions deleted on their agents, then their rows;
// 3. those region snapshots: read-only downstairs stopped, ZFS snapshot deleted, then the record
//    (last, so `deleting` marks "agent cleanup pending");
// 4. the read-write sweep (find_deleted_volume_regions) over every soft-deleted volume, its regions
//    deleted, then the volumes it returned hard-deleted;
// 5. this volume hard-deleted if no region names it any more.
// The sweep's volumes depend on nexus/rw-sweep-returns-volume-early; a hard delete leaves the
// usage rows behind under nexus/hard-delete-leaks-usage (upstream today, #7855).

import { probe, type Flow } from '../../../ports/index.ts';
import type { CrucibleResources } from '../../crdb/tables.ts';
import type { FreedResources } from '../../crdb/datastore/volume-usage.ts';
import type { NexusContext } from '../context.ts';
import { deleteRegion, deleteRegionSnapshot } from '../crucible-agent.ts';
import { dbStep } from '../db-client.ts';
import { failed, ok, type NodeResult, type SagaNode, type SagaRun } from '../saga/saga.ts';

export const BUG_SWEEP_EARLY = 'nexus/rw-sweep-returns-volume-early';
export const BUG_LEAK_USAGE = 'nexus/hard-delete-leaks-usage';
/** Upstream's undo of a replacement's stash: volume_hard_delete, which strands T when the stash holds its last reference. */
export const BUG_UNDO_DROPS_STASH = 'nexus/rsr-undo-drops-stash';

const NO_ANSWER = 'the database did not answer';

/** The volume-delete nodes for the volume `volumeOf` names (null: nothing to delete), their names prefixed. */
export function volumeDeleteNodes<P>(prefix: string, volumeOf: (run: SagaRun<P>) => string | null): SagaNode<P>[] {
  const resourcesOf = (run: SagaRun<P>): CrucibleResources => run.outputs[`${prefix}decrease_crucible_resource_count`] as CrucibleResources;
  return [
    {
      name: `${prefix}decrease_crucible_resource_count`,
      *action(run) {
        const volumeId = volumeOf(run);
        if (volumeId === null) return ok({ regions: [], regionSnapshots: [] } satisfies CrucibleResources);
        const r = yield* dbStep<'VolumeSoftDelete'>(run.nexus, { type: 'VolumeSoftDelete', volumeId });
        if (r === undefined) return failed(NO_ANSWER);
        if (r.resources.regions.length > 0) probe(run.nexus.env, 'volume-delete.frees-regions');
        if (r.resources.regionSnapshots.length > 0) probe(run.nexus.env, 'volume-delete.frees-region-snapshots');
        return ok(r.resources);
      },
    },
    { name: `${prefix}delete_crucible_regions`, action: (run) => deleteRegions(run.nexus, resourcesOf(run).regions) },
    { name: `${prefix}delete_crucible_snapshots`, action: (run) => deleteRegionSnapshots(run.nexus, resourcesOf(run).regionSnapshots) },
    {
      name: `${prefix}find_freed_crucible_regions`,
      *action(run) {
        const r = yield* dbStep<'FindDeletedVolumeRegions'>(run.nexus, { type: 'FindDeletedVolumeRegions', earlyVolume: run.nexus.bugs.has(BUG_SWEEP_EARLY) });
        return r === undefined ? failed(NO_ANSWER) : ok(r);
      },
    },
    {
      name: `${prefix}delete_freed_crucible_regions`,
      *action(run) {
        const freed = run.outputs[`${prefix}find_freed_crucible_regions`] as FreedResources;
        const regions = yield* deleteRegions(run.nexus, freed.regions.map((r) => r.regionId));
        if (!regions.ok) return regions;
        if (freed.regions.length > 0) probe(run.nexus.env, 'volume-delete.sweep-frees-regions');
        if (freed.volumes.length > 0) probe(run.nexus.env, 'volume-delete.sweep-hard-deletes-volumes');
        for (const volumeId of freed.volumes) if (!(yield* hardDelete(run.nexus, volumeId))) return failed(NO_ANSWER);
        return ok();
      },
    },
    {
      name: `${prefix}hard_delete_volume_record`,
      *action(run) {
        const volumeId = volumeOf(run);
        if (volumeId === null) return ok();
        const allocated = yield* dbStep<'AllocatedRegions'>(run.nexus, { type: 'AllocatedRegions', volumeId });
        if (allocated === undefined) return failed(NO_ANSWER);
        if (allocated.regions.length > 0) return ok();
        return (yield* hardDelete(run.nexus, volumeId)) ? ok() : failed(NO_ANSWER);
      },
    },
  ];
}

/**
 * The whole volume delete run inline, node after node (for an undo, which cannot append nodes):
 * true once every node succeeded. A stash an unwinding replacement leaves may hold the last
 * reference to T (its volume was deleted meanwhile, so the swap back was skipped): dropping the
 * row alone would strand T, never freed and never deleted (README, "An unwound step strands T").
 */
export function* deleteVolume(ctx: NexusContext, volumeId: string): Flow<boolean> {
  const outputs: Record<string, unknown> = {};
  const run = { nexus: ctx, id: `delete ${volumeId}`, params: null, outputs };
  for (const node of volumeDeleteNodes<null>('', () => volumeId)) {
    const r = yield* node.action(run);
    if (!r.ok) return false;
    outputs[node.name] = r.output;
  }
  return true;
}

/**
 * A replacement saga's stash, undone: the whole volume delete. Upstream hard-deletes it, under
 * nexus/rsr-undo-drops-stash and under nexus/hard-delete-leaks-usage (whose leak, #7855, is that
 * very undo leaving the stash's rows behind).
 */
export function* undoStash(ctx: NexusContext, stash: string): Flow<boolean> {
  const upstream = ctx.bugs.has(BUG_UNDO_DROPS_STASH) || ctx.bugs.has(BUG_LEAK_USAGE);
  return upstream ? yield* hardDelete(ctx, stash) : yield* deleteVolume(ctx, stash);
}

export function* hardDelete(ctx: NexusContext, volumeId: string): Flow<boolean> {
  const r = yield* dbStep<'VolumeHardDelete'>(ctx, { type: 'VolumeHardDelete', volumeId, leakUsage: ctx.bugs.has(BUG_LEAK_USAGE) });
  return r !== undefined;
}

/** Agent delete of each region still recorded, then the rows (regions_hard_delete). */
export function* deleteRegions(ctx: NexusContext, regionIds: readonly string[]): Flow<NodeResult> {
  if (regionIds.length === 0) return ok();
  const rows = yield* dbStep<'RegionsFetch'>(ctx, { type: 'RegionsFetch', regionIds });
  if (rows === undefined) return failed(NO_ANSWER);
  for (const region of rows.regions) {
    const r = yield* deleteRegion(ctx, region.dataset, region.regionId);
    if (!r.ok) return failed(`delete region ${region.regionId}: ${r.error}`);
  }
  const gone = yield* dbStep<'RegionsHardDelete'>(ctx, { type: 'RegionsHardDelete', regionIds: rows.regions.map((r) => r.regionId) });
  return gone === undefined ? failed(NO_ANSWER) : ok();
}

function* deleteRegionSnapshots(ctx: NexusContext, keys: readonly string[]): Flow<NodeResult> {
  for (const key of keys) {
    const found = yield* dbStep<'RegionSnapshotFetch'>(ctx, { type: 'RegionSnapshotFetch', key });
    if (found === undefined) return failed(NO_ANSWER);
    if (found.row === null) continue;
    const r = yield* deleteRegionSnapshot(ctx, found.row.dataset, found.row.regionId, found.row.snapshotId);
    if (!r.ok) return failed(`delete region snapshot ${key}: ${r.error}`);
    if ((yield* dbStep<'RegionSnapshotRemove'>(ctx, { type: 'RegionSnapshotRemove', key })) === undefined) return failed(NO_ANSWER);
  }
  return ok();
}
