// region-snapshot-replacement-step-garbage-collect (region_snapshot_replacement_step_garbage_collect.rs,
// omicron b848b6df85): no claim on the step (every node is idempotent, so two runs are harmless);
// the step's stash deleted (it holds T's reference from the step's volume), then Complete ->
// VolumeDeleted.

import { dbStep } from '../db-client.ts';
import { failed, ok, type SagaDef } from '../saga/saga.ts';
import { volumeDeleteNodes } from './volume-delete.ts';

export interface RsrStepGarbageCollectParams {
  readonly stepId: string;
  readonly oldSnapshotVolumeId: string;
}

export const regionSnapshotReplacementStepGarbageCollect: SagaDef<RsrStepGarbageCollectParams> = {
  name: 'region-snapshot-replacement-step-garbage-collect',
  instanceOf: (p) => p.stepId,
  nodes: [
    ...volumeDeleteNodes<RsrStepGarbageCollectParams>('volume_delete.', (run) => run.params.oldSnapshotVolumeId),
    {
      name: 'update_request_record',
      *action(run) {
        const r = yield* dbStep<'RsrStepTransition'>(run.nexus, { type: 'RsrStepTransition', stepId: run.params.stepId, to: 'VolumeDeleted', sagaId: null });
        return r?.ok === true ? ok() : failed(`Conflict: step ${run.params.stepId} is not Complete`);
      },
    },
  ],
};
