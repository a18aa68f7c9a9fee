// region-snapshot-replacement-finish (region_snapshot_replacement_finish.rs, omicron b848b6df85,
// #7046): Running -> Completing under this saga's id; NRV deleted (volume-delete's nodes: R' may
// be freed here if nothing else uses it; a request with no NRV skips them); -> Complete, the
// request's lock on SV released. Unwinding returns the request to Running.

import type { SagaDef } from '../saga/saga.ts';
import { rsrSetSagaIdNode, rsrUpdateRequestNode } from './rsr-lock.ts';
import { volumeDeleteNodes } from './volume-delete.ts';

export interface RsrFinishParams {
  readonly requestId: string;
  readonly newRegionVolumeId: string | null;
}

export const regionSnapshotReplacementFinish: SagaDef<RsrFinishParams> = {
  name: 'region-snapshot-replacement-finish',
  instanceOf: (p) => p.requestId,
  nodes: [
    rsrSetSagaIdNode('Running', 'Completing'),
    ...volumeDeleteNodes<RsrFinishParams>('volume_delete.', (run) => run.params.newRegionVolumeId),
    rsrUpdateRequestNode('Completing', 'Complete'),
  ],
};
