// region-replacement-start (nexus/src/app/sagas/region_replacement_start.rs, omicron
// b848b6df85): Requested -> Allocating under this saga's id; allocate one more region for the
// volume (undo: delete it); rewrite the volume's VCR with the new region's target in place of
// the old one, every Region generation one up (undo: the same swap back); -> Running with the new
// region, the saga id cleared. The region is ensured on its downstairs upstream; here every
// downstairs already serves its (empty) region. A volume deleted meanwhile makes the swap refuse
// and the saga unwind; the detector then completes the request.

import { db, dbStep } from '../db-client.ts';
import { failed, ok, type SagaDef } from '../saga/saga.ts';
import { setSagaIdNode } from './replacement-lock.ts';

export interface ReplacementStartParams {
  readonly replacementId: string;
  readonly volumeId: string;
  readonly oldRegionId: string;
}

interface Allocated {
  readonly regionId: string;
  readonly downstairs: string;
}

export const regionReplacementStart: SagaDef<ReplacementStartParams> = {
  name: 'region-replacement-start',
  instanceOf: (p) => p.replacementId,
  nodes: [
    setSagaIdNode('Requested', 'Allocating'),
    {
      name: 'alloc_new_region',
      *action(run) {
        const r = yield* dbStep<'RegionAllocateReplacement'>(run.nexus, { type: 'RegionAllocateReplacement', replacementId: run.params.replacementId, volumeId: run.params.volumeId });
        if (r === undefined) return failed('the database did not answer');
        return r.region === null ? failed('no physical disk has room for a new region') : ok(r.region);
      },
      *undo(run) {
        const region = run.outputs['alloc_new_region'] as Allocated;
        const r = yield* db<'RegionDelete'>(run.nexus, { type: 'RegionDelete', regionId: region.regionId });
        return r.ok;
      },
    },
    {
      name: 'replace_region_in_volume',
      *action(run) {
        const region = run.outputs['alloc_new_region'] as Allocated;
        const r = yield* dbStep<'VolumeReplaceRegion'>(run.nexus, { type: 'VolumeReplaceRegion', volumeId: run.params.volumeId, oldRegionId: run.params.oldRegionId, newRegionId: region.regionId });
        if (r === undefined) return failed('the database did not answer');
        if (r.result === 'Done' || r.result === 'AlreadyHappened') return ok();
        return failed(`Conflict: volume_replace_region: ${r.result}`);
      },
      *undo(run) {
        const region = run.outputs['alloc_new_region'] as Allocated;
        const r = yield* db<'VolumeReplaceRegion'>(run.nexus, { type: 'VolumeReplaceRegion', volumeId: run.params.volumeId, oldRegionId: region.regionId, newRegionId: run.params.oldRegionId });
        return r.ok && r.reply.result !== 'Error';
      },
    },
    {
      name: 'update_request_record',
      *action(run) {
        const region = run.outputs['alloc_new_region'] as Allocated;
        const r = yield* dbStep<'RegionReplacementTransition'>(run.nexus, { type: 'RegionReplacementTransition', replacementId: run.params.replacementId, from: 'Allocating', to: 'Running', sagaId: run.id, mode: 'clear', newRegionId: region.regionId });
        return r?.ok === true ? ok() : failed('Conflict: the request moved under the saga');
      },
    },
  ],
};
