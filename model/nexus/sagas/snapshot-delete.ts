// snapshot-delete (nexus/src/app/sagas/snapshot_delete.rs, omicron b848b6df85): the snapshot
// record soft-deleted (a Ready one; the row stays, replacement still reads it), then its volume
// deleted (volume-delete's nodes). Upstream also deletes the snapshot's scratch destination
// volume, which is not modelled (no Pantry).
//
// Upstream's record delete has no undo and volume-delete's nodes none either: a saga that unwinds
// after the volume's soft delete leaves the snapshot gone for its user and its region snapshots,
// counted down to no use, never deleted; the regions they were taken of cannot be deleted while
// they exist (found here, README "Findings"). Our undo puts the snapshot back Faulted (as
// disk-delete's does a disk), so its user deletes it again and the volume delete runs to its end.
// Bug switch nexus/snapshot-delete-no-undo: upstream's saga, no undo.

import { db, dbStep } from '../db-client.ts';
import { failed, ok, type SagaDef } from '../saga/saga.ts';
import { volumeDeleteNodes } from './volume-delete.ts';

export const BUG_NO_UNDO = 'nexus/snapshot-delete-no-undo';

export interface SnapshotDeleteParams {
  readonly snapshotId: string;
}

export const snapshotDelete: SagaDef<SnapshotDeleteParams> = {
  name: 'snapshot-delete',
  instanceOf: (p) => p.snapshotId,
  nodes: [
    {
      name: 'delete_snapshot_record',
      *action(run) {
        const r = yield* dbStep<'SnapshotSoftDelete'>(run.nexus, { type: 'SnapshotSoftDelete', snapshotId: run.params.snapshotId, anyState: false });
        if (r === undefined) return failed('the database did not answer');
        return r.ok ? ok(r.volumeId) : failed(r.error);
      },
      *undo(run) {
        if (run.nexus.bugs.has(BUG_NO_UNDO)) return true;
        return (yield* db<'SnapshotUndeleteSetFaulted'>(run.nexus, { type: 'SnapshotUndeleteSetFaulted', snapshotId: run.params.snapshotId })).ok;
      },
    },
    ...volumeDeleteNodes<SnapshotDeleteParams>('volume_delete.', (run) => run.outputs['delete_snapshot_record'] as string),
  ],
};
