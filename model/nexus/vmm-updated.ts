// How a VMM state reaches the database: a sled-agent's report (notify_vmm_updated), or Nexus's
// own conclusion that the VMM is gone (the instance watcher's 404, a 404 on a state change:
// mark_vmm_failed). Both are conditional writes; if one lands a terminal state, an
// instance-update saga is started to fold the VMM into its instance (update_saga_needed).

import { isTerminal, type SledVmmState } from '../common/vmm-state.ts';
import type { VmmRow } from '../crdb/tables.ts';
import type { Flow } from '../../ports/index.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';
import { startUpdateSaga } from './sagas/instance-update.ts';

/** Returns false if the database did not answer. */
export function* notifyVmmUpdated(ctx: NexusContext, vmmId: string, state: SledVmmState): Flow<boolean> {
  const { vmmState, migrationIn, migrationOut } = state;
  const written = yield* db<'VmmUpdateRuntime'>(ctx, { type: 'VmmUpdateRuntime', vmmId, runtime: vmmState, migrationIn, migrationOut });
  if (!written.ok) return false;
  const { updated, instanceId, migrationTerminal } = written.reply;
  // update_saga_needed: the VMM became terminal, or a migration side did.
  if (instanceId !== null && ((updated && isTerminal(vmmState.state)) || migrationTerminal === true)) startUpdateSaga(ctx, instanceId);
  return true;
}

/**
 * The sled-agent says it has no such VMM: conclude it failed, at the generation after the one
 * read before asking. If the VMM has meanwhile advanced to that generation (its Destroyed report
 * landed first), the write is refused and nothing happens: the RFD 486 argument.
 */
export function* markVmmFailed(ctx: NexusContext, vmm: VmmRow): Flow<void> {
  const runtime = { state: 'Failed', gen: vmm.gen + 1 } as const;
  const written = ctx.bugs.has('nexus/mark-failed-any-state')
    ? yield* db<'VmmUpdateRuntime'>(ctx, { type: 'VmmUpdateRuntime', vmmId: vmm.id, runtime })
    : yield* db<'VmmMarkFailed'>(ctx, { type: 'VmmMarkFailed', vmmId: vmm.id, gen: runtime.gen });
  if (!written.ok || !written.reply.updated) return;
  ctx.env.log(`VMM ${vmm.id} marked Failed at gen ${runtime.gen}`);
  startUpdateSaga(ctx, vmm.instanceId);
}
