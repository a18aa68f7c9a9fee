// disk-delete (nexus/src/app/sagas/disk_delete.rs, omicron b848b6df85): the disk record deleted
// (refused while attached), then its volume deleted (volume-delete's nodes). Unwound, the disk
// comes back Faulted (sdd_delete_disk_record_undo), for its user to delete again.

import { db, dbStep } from '../db-client.ts';
import { failed, ok, type SagaDef } from '../saga/saga.ts';
import { volumeDeleteNodes } from './volume-delete.ts';

export interface DiskDeleteParams {
  readonly diskId: string;
}

export const diskDelete: SagaDef<DiskDeleteParams> = {
  name: 'disk-delete',
  instanceOf: (p) => p.diskId,
  nodes: [
    {
      name: 'delete_disk_record',
      *action(run) {
        const r = yield* dbStep<'DiskSoftDelete'>(run.nexus, { type: 'DiskSoftDelete', diskId: run.params.diskId });
        if (r === undefined) return failed('the database did not answer');
        return r.ok ? ok(r.volumeId) : failed(r.error);
      },
      // The volume delete after it has no undo: a second delete of the Faulted disk runs it again.
      *undo(run) {
        return (yield* db<'DiskUndeleteSetFaulted'>(run.nexus, { type: 'DiskUndeleteSetFaulted', diskId: run.params.diskId })).ok;
      },
    },
    ...volumeDeleteNodes<DiskDeleteParams>('volume_delete.', (run) => run.outputs['delete_disk_record'] as string),
  ],
};
