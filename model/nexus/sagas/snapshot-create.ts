// snapshot-create (nexus/src/app/sagas/snapshot_create.rs, omicron b848b6df85): the disk's volume
// locked (volume_repair, so no replacement rewrites it meanwhile; undo: unlocked); the snapshot
// record, Creating (undo: deleted); a ZFS snapshot of each of the disk's regions (upstream: a
// flush with snapshot details sent through Propolis or the Pantry; here each agent takes it;
// undo, its own node: deleted); a read-only downstairs started for each and its region_snapshot record (undo,
// its own node: stopped, record removed); the snapshot volume, the disk's VCR with the region snapshots as
// read-only targets and the disk's read-only parent kept (undo: soft delete only, as upstream);
// Ready; the lock released.

import { readWriteTargets, singleRegionVolume } from '../../crucible/vcr-targets.ts';
import type { Vcr } from '../../crucible/vcr.ts';
import type { RegionView } from '../../crdb/queries-snapshots.ts';
import { agentAct, ensureRunningSnapshot } from '../crucible-agent.ts';
import { db, dbStep } from '../db-client.ts';
import { failed, ok, type NodeResult, type SagaDef, type SagaRun } from '../saga/saga.ts';
import type { Flow } from '../../../ports/index.ts';

export interface SnapshotCreateParams {
  readonly snapshotId: string;
  readonly diskId: string;
  readonly volumeId: string;
}

interface DiskVolume {
  readonly volumeId: string;
  readonly vcr: Vcr;
  /** The disk's regions in the order its VCR names them. */
  readonly regions: readonly RegionView[];
}

const NO_ANSWER = 'the database did not answer';
const lockId = (p: SnapshotCreateParams): string => `${p.snapshotId}-lock`;

export const snapshotCreate: SagaDef<SnapshotCreateParams> = {
  name: 'snapshot-create',
  instanceOf: (p) => p.snapshotId,
  nodes: [
    {
      name: 'disk_volume',
      *action(run) {
        const disk = yield* dbStep<'DiskFetch'>(run.nexus, { type: 'DiskFetch', diskId: run.params.diskId });
        if (disk?.disk == null || disk.disk.timeDeleted != null) return failed(`disk ${run.params.diskId} not found`);
        const volume = yield* dbStep<'VolumeFetch'>(run.nexus, { type: 'VolumeFetch', volumeId: disk.disk.volumeId });
        const regions = yield* dbStep<'AllocatedRegions'>(run.nexus, { type: 'AllocatedRegions', volumeId: disk.disk.volumeId });
        if (volume?.volume == null || regions === undefined) return failed(`volume ${disk.disk.volumeId} not found`);
        const targets = readWriteTargets(volume.volume.vcr);
        const ordered = targets.flatMap((t) => regions.regions.filter((r) => r.address === t));
        if (ordered.length !== targets.length) return failed(`volume ${disk.disk.volumeId} names a region that has no record`);
        return ok({ volumeId: disk.disk.volumeId, vcr: volume.volume.vcr, regions: ordered } satisfies DiskVolume);
      },
    },
    {
      name: 'take_volume_lock',
      *action(run) {
        const d = run.outputs['disk_volume'] as DiskVolume;
        const r = yield* dbStep<'VolumeRepairLock'>(run.nexus, { type: 'VolumeRepairLock', volumeId: d.volumeId, repairId: lockId(run.params) });
        if (r === undefined) return failed(NO_ANSWER);
        return r.ok ? ok() : failed(`Conflict: ${r.error}`);
      },
      *undo(run) {
        const d = run.outputs['disk_volume'] as DiskVolume;
        return (yield* db<'VolumeRepairUnlock'>(run.nexus, { type: 'VolumeRepairUnlock', volumeId: d.volumeId, repairId: lockId(run.params) })).ok;
      },
    },
    {
      name: 'create_snapshot_record',
      *action(run) {
        const r = yield* dbStep<'SnapshotInsert'>(run.nexus, { type: 'SnapshotInsert', snapshotId: run.params.snapshotId, diskId: run.params.diskId, volumeId: run.params.volumeId });
        if (r === undefined) return failed(NO_ANSWER);
        return r.inserted ? ok() : failed(`disk ${run.params.diskId} is gone`);
      },
      *undo(run) {
        return (yield* db<'SnapshotSoftDelete'>(run.nexus, { type: 'SnapshotSoftDelete', snapshotId: run.params.snapshotId, anyState: true })).ok;
      },
    },
    // Upstream one flush through Propolis or the Pantry snapshots every region at once; here each
    // agent is asked in turn, so the undo is a node of its own before the action, as for the
    // running snapshots below: a send that fails at the second agent still deletes the first's.
    {
      name: 'send_snapshot_request_undo',
      *action() {
        return ok();
      },
      *undo(run) {
        for (const region of (run.outputs['disk_volume'] as DiskVolume).regions) {
          const r = yield* agentAct(run.nexus, region.dataset, { type: 'SnapshotDelete', regionId: region.regionId, snapshotId: run.params.snapshotId }, true);
          if (!r.ok && !r.error.startsWith('404')) return false;
        }
        return true;
      },
    },
    {
      name: 'send_snapshot_request',
      *action(run) {
        for (const region of (run.outputs['disk_volume'] as DiskVolume).regions) {
          const r = yield* agentAct(run.nexus, region.dataset, { type: 'SnapshotCreate', regionId: region.regionId, snapshotId: run.params.snapshotId }, false);
          if (!r.ok) return failed(`snapshot of ${region.regionId}: ${r.error}`);
        }
        return ok();
      },
    },
    // The undo is a node of its own before the action, as upstream: a start that fails halfway
    // (the second agent gone) is not undone itself, and its running snapshots must still stop.
    {
      name: 'start_running_snapshot_undo',
      *action() {
        return ok();
      },
      undo: stopRunningSnapshots,
    },
    { name: 'start_running_snapshot', action: startRunningSnapshots },
    {
      name: 'create_volume_record',
      *action(run) {
        const d = run.outputs['disk_volume'] as DiskVolume;
        const addresses = run.outputs['start_running_snapshot'] as string[];
        const parent = d.vcr.type === 'Volume' ? d.vcr.readOnlyParent : null;
        const vcr = singleRegionVolume(run.params.volumeId, addresses, true, 1, parent);
        const r = yield* dbStep<'VolumeCreate'>(run.nexus, { type: 'VolumeCreate', volumeId: run.params.volumeId, vcr });
        if (r === undefined) return failed(NO_ANSWER);
        return r.ok ? ok() : failed(r.error);
      },
      *undo(run) {
        return (yield* db<'VolumeSoftDelete'>(run.nexus, { type: 'VolumeSoftDelete', volumeId: run.params.volumeId })).ok;
      },
    },
    {
      name: 'finalize_snapshot_record',
      *action(run) {
        const r = yield* dbStep<'SnapshotSetState'>(run.nexus, { type: 'SnapshotSetState', snapshotId: run.params.snapshotId, state: 'Ready' });
        return r?.ok === true ? ok() : failed('the snapshot record is gone');
      },
    },
    {
      name: 'release_volume_lock',
      *action(run) {
        const d = run.outputs['disk_volume'] as DiskVolume;
        const r = yield* dbStep<'VolumeRepairUnlock'>(run.nexus, { type: 'VolumeRepairUnlock', volumeId: d.volumeId, repairId: lockId(run.params) });
        return r === undefined ? failed(NO_ANSWER) : ok();
      },
    },
  ],
};

function* startRunningSnapshots(run: SagaRun<SnapshotCreateParams>): Flow<NodeResult> {
  const addresses: string[] = [];
  for (const region of (run.outputs['disk_volume'] as DiskVolume).regions) {
    const r = yield* ensureRunningSnapshot(run.nexus, region.dataset, region.regionId, run.params.snapshotId);
    if (!r.ok) return failed(`running snapshot of ${region.regionId}: ${r.error}`);
    const row = yield* dbStep<'RegionSnapshotInsert'>(run.nexus, { type: 'RegionSnapshotInsert', dataset: region.dataset, regionId: region.regionId, snapshotId: run.params.snapshotId });
    if (row === undefined) return failed(NO_ANSWER);
    addresses.push(row.row.address);
  }
  return ok(addresses);
}

function* stopRunningSnapshots(run: SagaRun<SnapshotCreateParams>): Flow<boolean> {
  for (const region of (run.outputs['disk_volume'] as DiskVolume).regions) {
    const r = yield* agentAct(run.nexus, region.dataset, { type: 'RunningSnapshotDelete', regionId: region.regionId, snapshotId: run.params.snapshotId }, true);
    if (!r.ok && !r.error.startsWith('404')) return false;
    if (!(yield* db<'RegionSnapshotRemove'>(run.nexus, { type: 'RegionSnapshotRemove', key: `${region.regionId}@${run.params.snapshotId}` })).ok) return false;
  }
  return true;
}
