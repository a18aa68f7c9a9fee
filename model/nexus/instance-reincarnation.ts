// The instance_reincarnation background task: restarts instances that are Failed with no VMM,
// or whose active VMM an unwound saga left SagaUnwound, if their auto-restart policy allows it
// (BestEffort or unset), they are meant to run, their cooldown has passed and no update holds
// them, through the instance-start saga with reason AutoRestart.

import { probe, type Flow } from '../../ports/index.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';
import { executeSaga } from './saga/executor.ts';
import { instanceStart, newStartParams } from './sagas/instance-start.ts';

export function* instanceReincarnationPass(ctx: NexusContext): Flow<void> {
  const listed = yield* db<'InstancesReincarnatable'>(ctx, { type: 'InstancesReincarnatable', nowMs: ctx.env.now(), cooldownMs: ctx.config.reincarnationCooldownMs });
  if (!listed.ok) return;
  for (const instanceId of listed.reply.instanceIds) {
    const fetched = yield* db<'InstanceFetch'>(ctx, { type: 'InstanceFetch', instanceId });
    if (!fetched.ok || fetched.reply === null) continue;
    ctx.env.log(`instance_reincarnation: restarting ${instanceId}`);
    probe(ctx.env, 'instance-reincarnation.restart');
    yield* executeSaga(ctx, instanceStart, ctx.env.mintId('saga'), newStartParams(ctx, fetched.reply.instance, 'AutoRestart'));
  }
}
