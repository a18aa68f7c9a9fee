// region-snapshot-replacement-step (region_snapshot_replacement_step.rs, omicron b848b6df85): the
// step Requested -> Running under this saga's id (the state alone is checked; undo: back to
// Requested, the lock kept); T's and R''s addresses (T's record gone, or R' gone: fail); a blank
// stash, locked by the step (undo: unlocked, deleted; see createStash and undoStash); T swapped for R' in
// the step's volume (undo: swapped back); the upstairs told (below); -> Complete with the stash,
// the step's locks released.
// Notify: a deleted volume has no upstairs (before #7046, nexus/rsr-ignores-deleted-volumes, it
// went on regardless); a disk not attached, or an instance with no active VMM, has none either; a
// VMM Running or Rebooting gets the volume's VCR; any other state fails the node, so the saga
// unwinds and the swap is undone (omicron#7398 proposes Starting too). Started, StartedAlready,
// CompletedAlready and VcrMatches are success. A 400 "no difference" means an earlier send
// reached the VMM and its answer was lost: upstream fails on it for as long as that VMM runs
// (each retry swaps again and sends the same VCR); we read it as VcrMatches, as the region
// replacement drive saga does by default (README).

import { VCRS_HAVE_NO_DIFFERENCE } from '../../crucible/vcr.ts';
import type { ReplaceSnapshotResult } from '../../crdb/datastore/volume-usage.ts';
import type { SledAgentReply, SledAgentRequest } from '../../sled-agent/api.ts';
import { call, probe, type Flow } from '../../../ports/index.ts';
import { db, dbStep } from '../db-client.ts';
import { failed, ok, type NodeResult, type SagaDef, type SagaRun } from '../saga/saga.ts';
import { createVolume, swap } from './region-snapshot-replacement-start.ts';
import { undoStash } from './volume-delete.ts';

export const BUG_IGNORES_DELETED = 'nexus/rsr-ignores-deleted-volumes';
export const BUG_STASH_UNLOCKED = 'nexus/rsr-step-stash-unlocked';


export interface RsrStepParams {
  readonly stepId: string;
  readonly requestId: string;
  readonly volumeId: string;
}

interface ReplaceParams {
  readonly old: string;
  readonly replacement: string;
}

const NO_ANSWER = 'the database did not answer';
const VCR_CALL_TIMEOUT_MS = 6_000;
const stashOf = (run: SagaRun<RsrStepParams>): string => `${run.id}-stash`;
const paramsOf = (run: SagaRun<RsrStepParams>): ReplaceParams => run.outputs['create_replace_params'] as ReplaceParams;

export const regionSnapshotReplacementStep: SagaDef<RsrStepParams> = {
  name: 'region-snapshot-replacement-step',
  instanceOf: (p) => p.stepId,
  nodes: [
    {
      name: 'set_saga_id',
      *action(run) {
        const r = yield* dbStep<'RsrStepTransition'>(run.nexus, { type: 'RsrStepTransition', stepId: run.params.stepId, to: 'Running', sagaId: run.id });
        return r?.ok === true ? ok() : failed('Conflict: the step is not Requested');
      },
      *undo(run) {
        const r = yield* db<'RsrStepTransition'>(run.nexus, { type: 'RsrStepTransition', stepId: run.params.stepId, to: 'Requested', sagaId: run.id });
        return r.ok && r.reply.ok;
      },
    },
    { name: 'create_replace_params', action: createReplaceParams },
    { name: 'create_fake_volume', action: createStash, undo: deleteStash },
    {
      name: 'replace_snapshot_in_volume',
      *action(run) {
        const r = yield* swap(run.nexus, run.params.volumeId, paramsOf(run).old, paramsOf(run).replacement, stashOf(run));
        probe(run.nexus.env, `rsr.step.swap.${r.ok ? r.result : 'error'}`);
        return r.ok ? ok(r.result) : failed(r.error);
      },
      *undo(run) {
        return (yield* swap(run.nexus, run.params.volumeId, paramsOf(run).replacement, paramsOf(run).old, stashOf(run))).ok;
      },
    },
    { name: 'notify_upstairs', action: notifyUpstairs },
    {
      name: 'update_request_record',
      *action(run) {
        const r = yield* dbStep<'RsrStepTransition'>(run.nexus, { type: 'RsrStepTransition', stepId: run.params.stepId, to: 'Complete', sagaId: run.id, oldSnapshotVolumeId: stashOf(run) });
        return r?.ok === true ? ok() : failed('Conflict: the step moved under the saga');
      },
    },
  ],
};

/**
 * The blank stash, locked by this step (repair id = step id) until the step completes, when the
 * lock goes with the step's own. Upstream leaves it unlocked (nexus/rsr-step-stash-unlocked):
 * from the swap until Complete records it as the step's old_snapshot_volume_id, the stash is a
 * live volume naming T that no step claims, so the step task makes a step for it (README,
 * "A step for a stash").
 */
function* createStash(run: SagaRun<RsrStepParams>): Flow<NodeResult> {
  const created = yield* createVolume(run.nexus, stashOf(run), []);
  if (!created.ok || run.nexus.bugs.has(BUG_STASH_UNLOCKED)) return created;
  const lock = yield* dbStep<'VolumeRepairLock'>(run.nexus, { type: 'VolumeRepairLock', volumeId: stashOf(run), repairId: run.params.stepId });
  if (lock === undefined) return failed(NO_ANSWER);
  return lock.ok ? ok() : failed(`Conflict: ${lock.error}`);
}

function* deleteStash(run: SagaRun<RsrStepParams>): Flow<boolean> {
  const unlocked = yield* db<'VolumeRepairUnlock'>(run.nexus, { type: 'VolumeRepairUnlock', volumeId: stashOf(run), repairId: run.params.stepId });
  return unlocked.ok && (yield* undoStash(run.nexus, stashOf(run)));
}


function* createReplaceParams(run: SagaRun<RsrStepParams>): Flow<NodeResult> {
  const request = yield* dbStep<'RsrFetch'>(run.nexus, { type: 'RsrFetch', requestId: run.params.requestId });
  if (request?.request == null) return failed(request === undefined ? NO_ANSWER : `request ${run.params.requestId} not found`);
  const target = yield* dbStep<'RegionSnapshotFetch'>(run.nexus, { type: 'RegionSnapshotFetch', key: request.request.oldRegionSnapshot });
  if (target === undefined) return failed(NO_ANSWER);
  if (target.row === null) return failed(`request ${run.params.requestId} target deleted!`);
  const newRegionId = request.request.newRegionId;
  if (newRegionId === null) return failed(`request ${run.params.requestId} does not have a new_region_id!`);
  const region = yield* dbStep<'RegionsFetch'>(run.nexus, { type: 'RegionsFetch', regionIds: [newRegionId] });
  if (region === undefined) return failed(NO_ANSWER);
  if (region.regions.length === 0) return failed(`Gone: region ${newRegionId}`);
  return ok({ old: target.row.address, replacement: region.regions[0]!.address } satisfies ReplaceParams);
}

function* notifyUpstairs(run: SagaRun<RsrStepParams>): Flow<NodeResult> {
  const result = run.outputs['replace_snapshot_in_volume'] as ReplaceSnapshotResult;
  const deleted = result === 'ExistingVolumeSoftDeleted' || result === 'ExistingVolumeHardDeleted';
  if (deleted && !run.nexus.bugs.has(BUG_IGNORES_DELETED)) {
    probe(run.nexus.env, 'rsr.step.notify.volume-deleted');
    return ok();
  }
  const holder = yield* dbStep<'DiskForVolume'>(run.nexus, { type: 'DiskForVolume', volumeId: run.params.volumeId });
  if (holder === undefined) return failed(NO_ANSWER);
  if (holder.diskId === null || holder.instanceId === null || holder.vmm === null) {
    probe(run.nexus.env, 'rsr.step.notify.no-vmm');
    return ok();
  }
  probe(run.nexus.env, `rsr.step.notify.vmm-${holder.vmm.state}`);
  if (holder.vmm.state !== 'Running' && holder.vmm.state !== 'Rebooting') return failed(`vmm ${holder.vmm.id} propolis not in a state to receive request`);
  const volume = yield* dbStep<'VolumeFetch'>(run.nexus, { type: 'VolumeFetch', volumeId: run.params.volumeId });
  if (volume === undefined) return failed(NO_ANSWER);
  if (volume.volume === null) return failed('new volume is gone!');
  const request: SledAgentRequest = { type: 'VmmVcrReplace', vmmId: holder.vmm.id, backendId: holder.diskId, vcr: volume.volume.vcr };
  const r = yield* call<SledAgentReply>(holder.vmm.sledId, request, VCR_CALL_TIMEOUT_MS);
  if (!r.ok || r.reply.type !== 'PropolisAnswered' || r.reply.reply === null) return failed('propolis did not answer');
  const answer = r.reply.reply;
  probe(run.nexus.env, `rsr.step.notify.answer-${answer.type === 'VcrReplaced' ? answer.result : answer.type === 'Error' ? answer.status : answer.type}`);
  if (answer.type === 'VcrReplaced') return ok(answer.result);
  if (answer.type === 'Error' && answer.status === 400 && answer.message === VCRS_HAVE_NO_DIFFERENCE) return ok('VcrMatches');
  return failed(answer.type === 'Error' ? `propolis: ${answer.status} ${answer.message}` : `propolis: unexpected ${answer.type}`);
}
