// The instance_watcher background task (nexus/src/app/background/tasks/instance_watcher.rs).
// Each activation lists the VMMs that should be on a sled (not Creating, SagaUnwound or
// Destroyed, not deleted) and asks each one's sled-agent for its state, concurrently:
// - a state: fed through the conditional write like any sled-agent report;
// - 404 NO_SUCH_INSTANCE: the VMM is gone, so Failed at the generation after the one listed;
// - no answer: inconclusive, nothing written. (The real task also fails VMMs on expunged or
//   powered-off sleds; this model has neither.)

import { call, probe, type Flow } from '../../ports/index.ts';
import type { VmmRow } from '../crdb/tables.ts';
import type { SledAgentReply } from '../sled-agent/api.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';
import { markVmmFailed, notifyVmmUpdated } from './vmm-updated.ts';

export function* instanceWatcherPass(ctx: NexusContext): Flow<void> {
  const listed = yield* db<'InstanceAndVmmListBySledAgent'>(ctx, { type: 'InstanceAndVmmListBySledAgent' });
  if (!listed.ok) return;
  for (const vmm of listed.reply.vmms) ctx.env.spawn(`instance_watcher check ${vmm.id}`, checkVmm(ctx, vmm));
}

function* checkVmm(ctx: NexusContext, vmm: VmmRow): Flow<void> {
  const r = yield* call<SledAgentReply>(vmm.sledId, { type: 'VmmGetState', vmmId: vmm.id }, ctx.config.sledTimeoutMs);
  if (!r.ok) return;
  if (r.reply.type === 'NoSuchInstance') {
    ctx.env.log(`instance_watcher: sled-agent error indicates that VMM ${vmm.id} has failed`);
    probe(ctx.env, 'instance-watcher.no-such-instance');
    yield* markVmmFailed(ctx, vmm);
    return;
  }
  if (r.reply.type === 'VmmState') yield* notifyVmmUpdated(ctx, vmm.id, r.reply.state);
}
