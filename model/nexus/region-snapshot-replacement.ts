// The region snapshot replacement background tasks (nexus/src/app/background/tasks/
// region_snapshot_replacement_{start,garbage_collect,step,finish}.rs, omicron b848b6df85), fire
// and forget as upstream:
// - start: a request (locking the snapshot's volume) for every region snapshot on an expunged
//   disk that has none (and, unlike upstream, whose snapshot is not still being created: see
//   regionSnapshotsToReplace); then each Requested request gets a start saga, or goes straight to
//   Complete if T's record is gone (#7046);
// - garbage collect: each ReplacementDone request gets the saga that deletes its stash;
// - step, in this order: step GC for every Complete step; for each Running request whose T still
//   exists, a step (and a lock) for every volume naming T (soft-deleted ones skipped, #7046; a
//   lock held elsewhere skips it silently); each Requested step goes to VolumeDeleted if its
//   volume is deleted, T's record is gone, or the volume no longer names T, else gets a step saga;
// - finish: a Running request with every step VolumeDeleted and T's record gone gets the finish
//   saga (#7046).
// nexus/rsr-ignores-deleted-volumes restores the code before #7046: steps for soft-deleted
// volumes, no way out of Requested for a step, no shortcut to Complete, and the finish done in the
// task, Running -> Complete, with no saga. nexus/rsr-lock-needs-live-volume is passed down to
// the lock (region-snapshot-replacement.ts in the datastore).

import { probe, type Flow } from '../../ports/index.ts';
import type { RsrRow, RsrStepRow } from '../crdb/tables.ts';
import { readOnlyTargets } from '../crucible/vcr-targets.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';
import { executeSaga } from './saga/executor.ts';
import { regionSnapshotReplacementFinish } from './sagas/region-snapshot-replacement-finish.ts';
import { regionSnapshotReplacementGarbageCollect } from './sagas/region-snapshot-replacement-garbage-collect.ts';
import { regionSnapshotReplacementStart } from './sagas/region-snapshot-replacement-start.ts';
import { regionSnapshotReplacementStepGarbageCollect } from './sagas/region-snapshot-replacement-step-garbage-collect.ts';
import { BUG_IGNORES_DELETED, regionSnapshotReplacementStep } from './sagas/region-snapshot-replacement-step.ts';

export const BUG_LOCK_NEEDS_LIVE_VOLUME = 'nexus/rsr-lock-needs-live-volume';
export const BUG_SNAPSHOT_STILL_CREATING = 'nexus/rsr-snapshot-still-creating';

function* targetAddress(ctx: NexusContext, request: RsrRow): Flow<string | null | undefined> {
  const r = yield* db<'RegionSnapshotFetch'>(ctx, { type: 'RegionSnapshotFetch', key: request.oldRegionSnapshot });
  if (!r.ok) return undefined;
  return r.reply.row?.address ?? null;
}

export function* rsrStartPass(ctx: NexusContext): Flow<void> {
  const found = yield* db<'RegionSnapshotsToReplace'>(ctx, { type: 'RegionSnapshotsToReplace', includeCreating: ctx.bugs.has(BUG_SNAPSHOT_STILL_CREATING) });
  if (!found.ok) return;
  const lockNeedsLiveVolume = ctx.bugs.has(BUG_LOCK_NEEDS_LIVE_VOLUME);
  for (const key of found.reply.keys) {
    const r = yield* db<'RsrInsert'>(ctx, { type: 'RsrInsert', requestId: ctx.env.mintId('rsr'), regionSnapshot: key, lockNeedsLiveVolume });
    if (r.ok) probe(ctx.env, r.reply.inserted ? 'rsr.request.inserted' : `rsr.request.refused.${r.reply.error}`);
    if (r.ok && !r.reply.inserted) ctx.env.log(`region snapshot replacement for ${key} not requested: ${r.reply.error}`);
  }
  const requested = yield* db<'RsrListIn'>(ctx, { type: 'RsrListIn', state: 'Requested' });
  if (!requested.ok) return;
  for (const request of requested.reply.requests) {
    const address = yield* targetAddress(ctx, request);
    if (address === undefined) continue;
    if (address === null && !ctx.bugs.has(BUG_IGNORES_DELETED)) {
      probe(ctx.env, 'rsr.request.complete-from-requested');
      yield* db<'RsrTransition'>(ctx, { type: 'RsrTransition', requestId: request.id, from: 'Requested', to: 'Complete', sagaId: null, mode: 'clear' });
      continue;
    }
    const params = { requestId: request.id, regionSnapshot: request.oldRegionSnapshot, snapshotId: request.oldSnapshotId };
    ctx.env.spawn('region-snapshot-replacement-start', executeSaga(ctx, regionSnapshotReplacementStart, ctx.env.mintId('saga'), params));
  }
}

export function* rsrGarbageCollectPass(ctx: NexusContext): Flow<void> {
  const done = yield* db<'RsrListIn'>(ctx, { type: 'RsrListIn', state: 'ReplacementDone' });
  if (!done.ok) return;
  for (const request of done.reply.requests) {
    if (request.oldSnapshotVolumeId === null) continue;
    const params = { requestId: request.id, oldSnapshotVolumeId: request.oldSnapshotVolumeId };
    ctx.env.spawn('region-snapshot-replacement-garbage-collect', executeSaga(ctx, regionSnapshotReplacementGarbageCollect, ctx.env.mintId('saga'), params));
  }
}

export function* rsrStepPass(ctx: NexusContext): Flow<void> {
  const complete = yield* db<'RsrStepsIn'>(ctx, { type: 'RsrStepsIn', state: 'Complete' });
  if (!complete.ok) return;
  for (const step of complete.reply.steps) {
    if (step.oldSnapshotVolumeId === null) continue;
    const params = { stepId: step.id, oldSnapshotVolumeId: step.oldSnapshotVolumeId };
    ctx.env.spawn('region-snapshot-replacement-step-garbage-collect', executeSaga(ctx, regionSnapshotReplacementStepGarbageCollect, ctx.env.mintId('saga'), params));
  }
  const running = yield* db<'RsrListIn'>(ctx, { type: 'RsrListIn', state: 'Running' });
  if (!running.ok) return;
  for (const request of running.reply.requests) yield* createSteps(ctx, request);
  const requested = yield* db<'RsrStepsIn'>(ctx, { type: 'RsrStepsIn', state: 'Requested' });
  if (!requested.ok) return;
  for (const step of requested.reply.steps) yield* invalidateOrLaunch(ctx, step);
}

function* createSteps(ctx: NexusContext, request: RsrRow): Flow<void> {
  const address = yield* targetAddress(ctx, request);
  if (address == null) return;
  const volumes = yield* db<'VolumesReferencing'>(ctx, { type: 'VolumesReferencing', target: address });
  if (!volumes.ok) return;
  for (const v of volumes.reply.volumes) {
    if (v.deleted && !ctx.bugs.has(BUG_IGNORES_DELETED)) {
      probe(ctx.env, 'rsr.step.skipped-soft-deleted-volume');
      continue;
    }
    const r = yield* db<'RsrStepInsert'>(ctx, { type: 'RsrStepInsert', stepId: ctx.env.mintId('rsr-step'), requestId: request.id, volumeId: v.volumeId, lockNeedsLiveVolume: ctx.bugs.has(BUG_LOCK_NEEDS_LIVE_VOLUME) });
    if (r.ok) probe(ctx.env, `rsr.step.insert.${r.reply.result}`);
  }
}

/** A Requested step whose volume is gone or no longer names T is done with (#7046, #7435); else its saga runs. */
function* invalidateOrLaunch(ctx: NexusContext, step: RsrStepRow): Flow<void> {
  if (!ctx.bugs.has(BUG_IGNORES_DELETED)) {
    const invalid = yield* stepInvalidated(ctx, step);
    if (invalid === undefined) return;
    if (invalid) {
      probe(ctx.env, 'rsr.step.volume-deleted-from-requested');
      yield* db<'RsrStepTransition'>(ctx, { type: 'RsrStepTransition', stepId: step.id, to: 'VolumeDeleted', sagaId: null });
      return;
    }
  }
  const params = { stepId: step.id, requestId: step.requestId, volumeId: step.volumeId };
  ctx.env.spawn('region-snapshot-replacement-step', executeSaga(ctx, regionSnapshotReplacementStep, ctx.env.mintId('saga'), params));
}

function* stepInvalidated(ctx: NexusContext, step: RsrStepRow): Flow<boolean | undefined> {
  const volume = yield* db<'VolumeFetch'>(ctx, { type: 'VolumeFetch', volumeId: step.volumeId });
  if (!volume.ok) return undefined;
  if (volume.reply.volume === null || volume.reply.volume.timeDeleted !== null) return true;
  const request = yield* db<'RsrFetch'>(ctx, { type: 'RsrFetch', requestId: step.requestId });
  if (!request.ok || request.reply.request === null) return undefined;
  const address = yield* targetAddress(ctx, request.reply.request);
  if (address === undefined) return undefined;
  return address === null || !readOnlyTargets(volume.reply.volume.vcr).includes(address);
}

export function* rsrFinishPass(ctx: NexusContext): Flow<void> {
  const running = yield* db<'RsrListIn'>(ctx, { type: 'RsrListIn', state: 'Running' });
  if (!running.ok) return;
  for (const request of running.reply.requests) {
    const steps = yield* db<'RsrStepsInProgress'>(ctx, { type: 'RsrStepsInProgress', requestId: request.id });
    if (!steps.ok || steps.reply.count > 0) continue;
    const address = yield* targetAddress(ctx, request);
    if (address !== null) continue;
    if (ctx.bugs.has(BUG_IGNORES_DELETED)) {
      yield* db<'RsrTransition'>(ctx, { type: 'RsrTransition', requestId: request.id, from: 'Running', to: 'Complete', sagaId: null, mode: 'clear' });
      continue;
    }
    const params = { requestId: request.id, newRegionVolumeId: request.newRegionVolumeId };
    ctx.env.spawn('region-snapshot-replacement-finish', executeSaga(ctx, regionSnapshotReplacementFinish, ctx.env.mintId('saga'), params));
  }
}
