// region-snapshot-replacement-garbage-collect (region_snapshot_replacement_garbage_collect.rs,
// omicron b848b6df85): ReplacementDone -> DeletingOldVolume under this saga's id; the request's
// stash deleted (volume-delete's nodes: it holds T's reference from SV, so T may be freed here);
// -> Running. Unwinding returns the request to ReplacementDone.

import type { SagaDef } from '../saga/saga.ts';
import { rsrSetSagaIdNode, rsrUpdateRequestNode } from './rsr-lock.ts';
import { volumeDeleteNodes } from './volume-delete.ts';

export interface RsrGarbageCollectParams {
  readonly requestId: string;
  readonly oldSnapshotVolumeId: string;
}

export const regionSnapshotReplacementGarbageCollect: SagaDef<RsrGarbageCollectParams> = {
  name: 'region-snapshot-replacement-garbage-collect',
  instanceOf: (p) => p.requestId,
  nodes: [
    rsrSetSagaIdNode('ReplacementDone', 'DeletingOldVolume'),
    ...volumeDeleteNodes<RsrGarbageCollectParams>('volume_delete.', (run) => run.params.oldSnapshotVolumeId),
    rsrUpdateRequestNode('DeletingOldVolume', 'Running'),
  ],
};
