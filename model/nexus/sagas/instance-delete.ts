// instance-delete: the instance record goes, only if it is Stopped (NoVmm) or Failed with no
// active VMM (project_delete_instance), whoever holds the updater lock. No undo: the real saga's
// later steps (NAT, interfaces, IPs) have nothing to model here.

import { probe } from '../../../ports/index.ts';
import { dbStep } from '../db-client.ts';
import { failed, ok, type SagaDef } from '../saga/saga.ts';

export interface DeleteParams {
  readonly instanceId: string;
}

export const instanceDelete: SagaDef<DeleteParams> = {
  name: 'instance-delete',
  instanceOf: (p) => p.instanceId,
  nodes: [
    {
      name: 'delete_instance_record',
      *action(run) {
        const r = yield* dbStep<'InstanceDelete'>(run.nexus, { type: 'InstanceDelete', instanceId: run.params.instanceId });
        if (r === undefined) return failed('the database did not answer');
        if (r.lockedBy !== undefined) probe(run.nexus.env, 'instance-delete.while-locked');
        return r.deleted ? ok() : failed(`Conflict: ${r.reason}`);
      },
    },
  ],
};
