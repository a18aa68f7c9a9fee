// disk-create (nexus/src/app/sagas/disk_create.rs, omicron b848b6df85): three read-write regions
// allocated (undo: rows deleted), ensured on their agents (undo, its own node because an ensure is
// not atomic: deleted on the agents), the volume created, with a copy of the snapshot's volume as
// its read-only parent for a disk made from a snapshot (undo: soft delete, whose cleanup list is
// dropped as upstream's is, then hard delete), and the disk record (undo: removed).

import type { Vcr } from '../../crucible/vcr.ts';
import { singleRegionVolume } from '../../crucible/vcr-targets.ts';
import type { AllocatedRegion } from '../../crdb/datastore/storage.ts';
import { ensureRegion } from '../crucible-agent.ts';
import { db, dbStep } from '../db-client.ts';
import { failed, ok, type SagaDef } from '../saga/saga.ts';
import { deleteRegions, hardDelete } from './volume-delete.ts';

export interface DiskCreateParams {
  readonly diskId: string;
  readonly volumeId: string;
  readonly snapshotId: string | null;
}

const NO_ANSWER = 'the database did not answer';

export const diskCreate: SagaDef<DiskCreateParams> = {
  name: 'disk-create',
  instanceOf: (p) => p.diskId,
  nodes: [
    {
      name: 'regions_alloc',
      *action(run) {
        const r = yield* dbStep<'RegionAllocate'>(run.nexus, { type: 'RegionAllocate', volumeId: run.params.volumeId, count: 3, readOnly: false, snapshotId: null });
        if (r === undefined) return failed(NO_ANSWER);
        return r.regions === null ? failed('Not enough datasets to allocate disks') : ok(r.regions);
      },
      *undo(run) {
        const regions = run.outputs['regions_alloc'] as AllocatedRegion[];
        const r = yield* db<'RegionsHardDelete'>(run.nexus, { type: 'RegionsHardDelete', regionIds: regions.map((x) => x.regionId) });
        return r.ok;
      },
    },
    {
      name: 'regions_ensure_undo',
      *action() {
        return ok();
      },
      *undo(run) {
        const regions = run.outputs['regions_alloc'] as AllocatedRegion[];
        return (yield* deleteRegions(run.nexus, regions.map((x) => x.regionId))).ok;
      },
    },
    {
      name: 'regions_ensure',
      *action(run) {
        for (const region of run.outputs['regions_alloc'] as AllocatedRegion[]) {
          const r = yield* ensureRegion(run.nexus, region.dataset, region.regionId, null);
          if (!r.ok) return failed(`ensure ${region.regionId}: ${r.error}`);
        }
        return ok();
      },
    },
    {
      name: 'create_volume_record',
      *action(run) {
        let parent: Vcr | null = null;
        if (run.params.snapshotId !== null) {
          const snapshot = yield* dbStep<'SnapshotFetch'>(run.nexus, { type: 'SnapshotFetch', snapshotId: run.params.snapshotId });
          if (snapshot?.snapshot == null || snapshot.snapshot.state !== 'Ready') return failed(`snapshot ${run.params.snapshotId} is not ready`);
          const volume = yield* dbStep<'VolumeFetch'>(run.nexus, { type: 'VolumeFetch', volumeId: snapshot.snapshot.volumeId });
          if (volume?.volume == null || volume.volume.timeDeleted !== null) return failed(`snapshot volume ${snapshot.snapshot.volumeId} is gone`);
          parent = volume.volume.vcr;
        }
        const targets = (run.outputs['regions_alloc'] as AllocatedRegion[]).map((r) => r.address);
        const r = yield* dbStep<'VolumeCreate'>(run.nexus, { type: 'VolumeCreate', volumeId: run.params.volumeId, vcr: singleRegionVolume(run.params.volumeId, targets, false, 1, parent) });
        if (r === undefined) return failed(NO_ANSWER);
        return r.ok ? ok() : failed(r.error);
      },
      *undo(run) {
        const soft = yield* db<'VolumeSoftDelete'>(run.nexus, { type: 'VolumeSoftDelete', volumeId: run.params.volumeId });
        return soft.ok && (yield* hardDelete(run.nexus, run.params.volumeId));
      },
    },
    {
      name: 'create_disk_record',
      *action(run) {
        const r = yield* dbStep<'DiskInsert'>(run.nexus, { type: 'DiskInsert', diskId: run.params.diskId, volumeId: run.params.volumeId, snapshotId: run.params.snapshotId });
        return r === undefined ? failed(NO_ANSWER) : ok();
      },
    },
  ],
};
