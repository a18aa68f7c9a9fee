// snapshot-delete (nexus/src/app/sagas/snapshot_delete.rs, omicron b848b6df85): the snapshot
// record soft-deleted (a Ready one; the row stays, replacement still reads it), then its volume
// deleted (volume-delete's nodes). Upstream also deletes the snapshot's scratch destination
// volume, which is not modelled (no Pantry).

import { dbStep } from '../db-client.ts';
import { failed, ok, type SagaDef } from '../saga/saga.ts';
import { volumeDeleteNodes } from './volume-delete.ts';

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
    },
    ...volumeDeleteNodes<SnapshotDeleteParams>('volume_delete.', (run) => run.outputs['delete_snapshot_record'] as string),
  ],
};
