// The abandoned_vmm_reaper background task: VMMs that are Destroyed, Failed or SagaUnwound, that
// no instance holds as active or target, and that are not yet deleted, get marked deleted.
// (The real task also frees their sled reservations; this model has none.)

import type { Flow } from '../../ports/index.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';

export function* abandonedVmmReaperPass(ctx: NexusContext): Flow<void> {
  const listed = yield* db<'VmmListAbandoned'>(ctx, { type: 'VmmListAbandoned' });
  if (!listed.ok) return;
  for (const vmm of listed.reply.vmms) yield* db<'VmmMarkDeleted'>(ctx, { type: 'VmmMarkDeleted', vmmId: vmm.id });
}
