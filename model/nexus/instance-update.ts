// The instance update step: fold a terminal active VMM into its instance. This is the slice of
// the instance-update saga (nexus/src/app/sagas/instance_update) that the lifecycle without
// migrations needs: `updatesRequired` decides from a snapshot, `commit` writes only while the
// instance's state generation still matches the snapshot. The updater lock and the saga
// executor wrap these two when they arrive; the decision and the commit stay as they are.

import { isTerminal } from '../common/vmm-state.ts';
import type { InstanceSnapshot } from '../crdb/queries.ts';
import type { Flow } from '../ports.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';

export interface UpdatesRequired {
  readonly vmmId: string;
  /** Failed if the active VMM failed, else NoVmm. */
  readonly newState: 'NoVmm' | 'Failed';
}

export function updatesRequired({ instance, activeVmm }: InstanceSnapshot): UpdatesRequired | null {
  if (instance.activePropolisId === null || activeVmm === null || !isTerminal(activeVmm.state)) return null;
  return { vmmId: activeVmm.id, newState: activeVmm.state === 'Failed' ? 'Failed' : 'NoVmm' };
}

/** Bounded: a commit that loses to a concurrent writer re-reads and decides again. */
const MAX_ATTEMPTS = 3;

/** Returns whether this call committed an update. */
export function* instanceUpdate(ctx: NexusContext, instanceId: string): Flow<boolean> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const fetched = yield* db<'InstanceFetch'>(ctx, { type: 'InstanceFetch', instanceId });
    if (!fetched.ok || fetched.reply === null) return false;
    const updates = updatesRequired(fetched.reply);
    if (updates === null) return false;
    const commit = yield* db<'InstanceCommitUpdate'>(ctx, {
      type: 'InstanceCommitUpdate',
      instanceId,
      expectedGeneration: fetched.reply.instance.stateGeneration,
      vmmId: updates.vmmId,
      newState: updates.newState,
    });
    if (!commit.ok) return false; // inconclusive; the instance updater task will look again
    if (commit.reply.committed) {
      ctx.env.log(`instance ${instanceId} -> ${updates.newState}`);
      return true;
    }
  }
  return false;
}
