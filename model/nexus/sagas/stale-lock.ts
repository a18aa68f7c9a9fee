// Bug switch nexus/lock-in-runtime-state: before #5831 the updater lock fields travelled with the
// instance's runtime state, so a saga writing the runtime it had read also wrote back the lock
// as it had read it, releasing or resetting a lock another saga had taken since.

import type { StaleLockFields } from '../../crdb/queries.ts';
import type { InstanceRow } from '../../crdb/tables.ts';
import type { NexusContext } from '../context.ts';

export function staleLockFields(nexus: NexusContext, snapshot: Pick<InstanceRow, 'updaterId' | 'updaterGen'>): StaleLockFields {
  return nexus.bugs.has('nexus/lock-in-runtime-state') ? { updaterId: snapshot.updaterId, updaterGen: snapshot.updaterGen } : null;
}
