// The instance_updater background task: starts an update saga for every unlocked instance whose
// active VMM is terminal. It catches what a lost report, a failed lock or a crash left behind.

import type { Flow } from '../../ports/index.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';
import { startUpdateSaga } from './sagas/instance-update.ts';

export function* instanceUpdaterPass(ctx: NexusContext): Flow<void> {
  const listed = yield* db<'InstancesNeedingUpdate'>(ctx, { type: 'InstancesNeedingUpdate' });
  if (!listed.ok) return;
  for (const instanceId of listed.reply.instanceIds) startUpdateSaga(ctx, instanceId);
}
