// The region replacement background tasks (nexus/src/app/background/tasks/region_replacement.rs
// and region_replacement_driver.rs, omicron b848b6df85), fire and forget as upstream:
// - region_replacement (the detector): a request, with its volume's repair lock, for every
//   read-write region on an expunged physical disk that has none (a lock held by another repair
//   skips it); then a start saga for each Requested request, or Complete at once if its volume
//   was deleted meanwhile;
// - region_replacement_driver: for each Running request, ReplacementDone at once if an upstairs
//   reported a finished repair of the new region, else a drive saga; for each ReplacementDone
//   request, the finish saga.
// Upstream runs the detector every 30 s and the driver every 10 s; the scenario scales them down.

import type { Flow } from '../../ports/index.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';
import { executeSaga } from './saga/executor.ts';
import { regionReplacementDrive } from './sagas/region-replacement-drive.ts';
import { regionReplacementFinish } from './sagas/region-replacement-finish.ts';
import { regionReplacementStart } from './sagas/region-replacement-start.ts';

export function* regionReplacementPass(ctx: NexusContext): Flow<void> {
  const found = yield* db<'RegionsToReplace'>(ctx, { type: 'RegionsToReplace' });
  if (!found.ok) return;
  for (const { regionId, volumeId } of found.reply.regions) {
    yield* db<'RegionReplacementInsert'>(ctx, { type: 'RegionReplacementInsert', replacementId: ctx.env.mintId('region-replacement'), regionId, volumeId });
  }
  const requested = yield* db<'RegionReplacementsIn'>(ctx, { type: 'RegionReplacementsIn', state: 'Requested' });
  if (!requested.ok) return;
  for (const r of requested.reply.requests) {
    const vcr = yield* db<'VolumeGet'>(ctx, { type: 'VolumeGet', volumeId: r.volumeId });
    if (vcr.ok && vcr.reply.vcr === null) {
      yield* db<'RegionReplacementTransition'>(ctx, { type: 'RegionReplacementTransition', replacementId: r.id, from: 'Requested', to: 'Complete', sagaId: null, mode: 'clear' });
      continue;
    }
    ctx.env.spawn('region-replacement-start', executeSaga(ctx, regionReplacementStart, ctx.env.mintId('saga'), { replacementId: r.id, volumeId: r.volumeId, oldRegionId: r.oldRegionId }));
  }
}

export function* regionReplacementDriverPass(ctx: NexusContext): Flow<void> {
  const running = yield* db<'RegionReplacementsIn'>(ctx, { type: 'RegionReplacementsIn', state: 'Running' });
  if (!running.ok) return;
  for (const r of running.reply.requests) {
    const finished = yield* db<'RegionReplacementRepairFinished'>(ctx, { type: 'RegionReplacementRepairFinished', replacementId: r.id });
    if (finished.ok && finished.reply.finished) {
      yield* db<'RegionReplacementTransition'>(ctx, { type: 'RegionReplacementTransition', replacementId: r.id, from: 'Running', to: 'ReplacementDone', sagaId: null, mode: 'clear' });
      continue;
    }
    ctx.env.spawn('region-replacement-drive', executeSaga(ctx, regionReplacementDrive, ctx.env.mintId('saga'), { replacementId: r.id }));
  }
  const done = yield* db<'RegionReplacementsIn'>(ctx, { type: 'RegionReplacementsIn', state: 'ReplacementDone' });
  if (!done.ok) return;
  for (const r of done.reply.requests) {
    ctx.env.spawn('region-replacement-finish', executeSaga(ctx, regionReplacementFinish, ctx.env.mintId('saga'), { replacementId: r.id, oldRegionId: r.oldRegionId }));
  }
}
