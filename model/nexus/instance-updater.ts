// The instance_updater background task: finds instances whose active VMM is terminal and runs
// the update step for each. It catches what a lost reply or an inconclusive commit left behind.

import type { Flow } from '../ports.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';
import { instanceUpdate } from './instance-update.ts';

export function* instanceUpdaterPass(ctx: NexusContext): Flow<void> {
  const listed = yield* db<'InstancesNeedingUpdate'>(ctx, { type: 'InstancesNeedingUpdate' });
  if (!listed.ok) return;
  for (const instanceId of listed.reply.instanceIds) yield* instanceUpdate(ctx, instanceId);
}
