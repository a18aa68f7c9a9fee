// region-snapshot-replacement-start (nexus/src/app/sagas/region_snapshot_replacement_start.rs,
// omicron b848b6df85): Requested -> Allocating under this saga's id; a clone source chosen before
// allocating (another region snapshot of the snapshot on a disk in service, else a read-only
// region of the snapshot volume SV, else the target itself if its disk is in service); one more
// read-only region R' allocated for SV (undo: row deleted) and ensured as a clone on its agent
// (undo, its own node: deleted on the agent); NRV created naming R' (#7046; skipped under
// nexus/rsr-no-new-region-volume, as before #7046; undo: hard delete); the blank stash created
// (undo: deleted, see undoStash); T swapped for R' in SV (a deleted SV is tolerated: the swap
// says so and the saga carries on; undo: swapped back); -> ReplacementDone with R', NRV and the
// stash.

import type { AllocatedRegion } from '../../crdb/datastore/storage.ts';
import type { ReplaceSnapshotOutcome } from '../../crdb/datastore/volume-usage.ts';
import { singleRegionVolume } from '../../crucible/vcr-targets.ts';
import { probe, type Flow } from '../../../ports/index.ts';
import type { NexusContext } from '../context.ts';
import { ensureRegion } from '../crucible-agent.ts';
import { db, dbStep } from '../db-client.ts';
import { failed, ok, type NodeResult, type SagaDef, type SagaRun } from '../saga/saga.ts';
import { rsrSetSagaIdNode, rsrUpdateRequestNode } from './rsr-lock.ts';
import { deleteRegions, hardDelete, undoStash } from './volume-delete.ts';

export const BUG_NO_NRV = 'nexus/rsr-no-new-region-volume';

export interface RsrStartParams {
  readonly requestId: string;
  readonly regionSnapshot: string;
  readonly snapshotId: string;
}

interface AllocParams {
  readonly snapshotVolumeId: string;
  readonly current: readonly string[];
}

const NO_ANSWER = 'the database did not answer';
const stashOf = (run: SagaRun<RsrStartParams>): string => `${run.id}-stash`;
/** NRV's id; none before #7046 (this switch, or the pre-#7046 flow of nexus/rsr-ignores-deleted-volumes, which shipped with it). */
const nrvOf = (run: SagaRun<RsrStartParams>): string | null => (run.nexus.bugs.has(BUG_NO_NRV) || run.nexus.bugs.has('nexus/rsr-ignores-deleted-volumes') ? null : `${run.id}-nrv`);
const newRegion = (run: SagaRun<RsrStartParams>): AllocatedRegion => run.outputs['alloc_new_region'] as AllocatedRegion;

export const regionSnapshotReplacementStart: SagaDef<RsrStartParams> = {
  name: 'region-snapshot-replacement-start',
  instanceOf: (p) => p.requestId,
  nodes: [
    rsrSetSagaIdNode('Requested', 'Allocating'),
    {
      name: 'get_clone_source',
      *action(run) {
        const r = yield* dbStep<'RsrCloneSource'>(run.nexus, { type: 'RsrCloneSource', requestId: run.params.requestId });
        if (r === undefined) return failed(NO_ANSWER);
        return r.ok ? ok(r.address) : failed(r.error);
      },
    },
    { name: 'get_alloc_region_params', action: getAllocRegionParams },
    {
      name: 'alloc_new_region',
      action: allocNewRegion,
      *undo(run) {
        return (yield* db<'RegionsHardDelete'>(run.nexus, { type: 'RegionsHardDelete', regionIds: [newRegion(run).regionId] })).ok;
      },
    },
    {
      name: 'new_region_ensure_undo',
      *action() {
        return ok();
      },
      *undo(run) {
        return (yield* deleteRegions(run.nexus, [newRegion(run).regionId])).ok;
      },
    },
    {
      name: 'new_region_ensure',
      *action(run) {
        const region = newRegion(run);
        const r = yield* ensureRegion(run.nexus, region.dataset, region.regionId, run.outputs['get_clone_source'] as string);
        return r.ok ? ok() : failed(`ensure ${region.regionId}: ${r.error}`);
      },
    },
    {
      name: 'new_region_volume_create',
      *action(run) {
        const nrv = nrvOf(run);
        if (nrv === null) return ok();
        return yield* createVolume(run.nexus, nrv, [newRegion(run).address]);
      },
      *undo(run) {
        const nrv = nrvOf(run);
        return nrv === null || (yield* hardDelete(run.nexus, nrv));
      },
    },
    {
      name: 'create_fake_volume',
      action: (run) => createVolume(run.nexus, stashOf(run), []),
      undo: (run) => undoStash(run.nexus, stashOf(run)),
    },
    {
      name: 'replace_snapshot_in_volume',
      *action(run) {
        const found = yield* dbStep<'RegionSnapshotFetch'>(run.nexus, { type: 'RegionSnapshotFetch', key: run.params.regionSnapshot });
        if (found === undefined) return failed(NO_ANSWER);
        if (found.row === null) return failed(`request ${run.params.requestId} target deleted!`);
        const sv = (run.outputs['get_alloc_region_params'] as AllocParams).snapshotVolumeId;
        const r = yield* swap(run.nexus, sv, found.row.address, newRegion(run).address, stashOf(run));
        probe(run.nexus.env, `rsr.start.swap.${r.ok ? r.result : 'error'}`);
        return r.ok ? ok({ result: r.result, old: found.row.address }) : failed(r.error);
      },
      *undo(run) {
        const done = run.outputs['replace_snapshot_in_volume'] as { old: string };
        const sv = (run.outputs['get_alloc_region_params'] as AllocParams).snapshotVolumeId;
        return (yield* swap(run.nexus, sv, newRegion(run).address, done.old, stashOf(run))).ok;
      },
    },
    rsrUpdateRequestNode<RsrStartParams>('Allocating', 'ReplacementDone', (run) => ({ newRegionId: newRegion(run).regionId, newRegionVolumeId: nrvOf(run), oldSnapshotVolumeId: stashOf(run) })),
  ],
};

function* getAllocRegionParams(run: SagaRun<RsrStartParams>): Flow<NodeResult> {
  const snapshot = yield* dbStep<'SnapshotFetch'>(run.nexus, { type: 'SnapshotFetch', snapshotId: run.params.snapshotId });
  if (snapshot === undefined) return failed(NO_ANSWER);
  if (snapshot.snapshot === null) return failed(`snapshot ${run.params.snapshotId} was hard deleted!`);
  const regions = yield* dbStep<'AllocatedRegions'>(run.nexus, { type: 'AllocatedRegions', volumeId: snapshot.snapshot.volumeId });
  if (regions === undefined) return failed(NO_ANSWER);
  return ok({ snapshotVolumeId: snapshot.snapshot.volumeId, current: regions.regions.map((r) => r.regionId) } satisfies AllocParams);
}

/** arbitrary_region_allocate for SV with one region more than it had, then find_only_new_region. */
function* allocNewRegion(run: SagaRun<RsrStartParams>): Flow<NodeResult> {
  const params = run.outputs['get_alloc_region_params'] as AllocParams;
  const r = yield* dbStep<'RegionAllocate'>(run.nexus, { type: 'RegionAllocate', volumeId: params.snapshotVolumeId, count: params.current.length + 1, readOnly: true, snapshotId: run.params.snapshotId });
  if (r === undefined) return failed(NO_ANSWER);
  if (r.regions === null) return failed('Not enough datasets to allocate disks');
  const fresh = r.regions.filter((x) => !params.current.includes(x.regionId));
  return fresh.length === 1 ? ok(fresh[0]) : failed(`expected dataset and region, saw ${fresh.length}!`);
}

export function* createVolume(ctx: NexusContext, volumeId: string, readOnlyTargets: readonly string[]): Flow<NodeResult> {
  const vcr = singleRegionVolume(volumeId, readOnlyTargets, true, 0, null);
  const r = yield* dbStep<'VolumeCreate'>(ctx, { type: 'VolumeCreate', volumeId, vcr });
  if (r === undefined) return failed(NO_ANSWER);
  return r.ok ? ok() : failed(r.error);
}

/** volume_replace_snapshot: every result is fine (a deleted volume is skipped); an error fails. */
export function* swap(ctx: NexusContext, volumeId: string, existing: string, replacement: string, stash: string): Flow<ReplaceSnapshotOutcome> {
  const r = yield* dbStep<'VolumeReplaceSnapshot'>(ctx, { type: 'VolumeReplaceSnapshot', volumeId, existing, replacement, stash });
  return r ?? { ok: false, error: NO_ANSWER };
}
