// region-replacement-finish (nexus/src/app/sagas/region_replacement_finish.rs, omicron
// b848b6df85): ReplacementDone -> Completing under this saga's id (undo: back), delete the old
// region (upstream: through the volume that holds it since the swap), -> Complete, which
// releases the volume's repair lock.

import { dbStep } from '../db-client.ts';
import { failed, ok, type SagaDef } from '../saga/saga.ts';
import { setSagaIdNode } from './replacement-lock.ts';

export interface ReplacementFinishParams {
  readonly replacementId: string;
  readonly oldRegionId: string;
}

export const regionReplacementFinish: SagaDef<ReplacementFinishParams> = {
  name: 'region-replacement-finish',
  instanceOf: (p) => p.replacementId,
  nodes: [
    setSagaIdNode('ReplacementDone', 'Completing'),
    {
      name: 'delete_old_region',
      *action(run) {
        const r = yield* dbStep<'RegionDelete'>(run.nexus, { type: 'RegionDelete', regionId: run.params.oldRegionId });
        return r === undefined ? failed('the database did not answer') : ok();
      },
    },
    {
      name: 'update_request_record',
      *action(run) {
        const r = yield* dbStep<'RegionReplacementTransition'>(run.nexus, { type: 'RegionReplacementTransition', replacementId: run.params.replacementId, from: 'Completing', to: 'Complete', sagaId: run.id, mode: 'clear' });
        return r?.ok === true ? ok() : failed('Conflict: the request moved under the saga');
      },
    },
  ],
};
