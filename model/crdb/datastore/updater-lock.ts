// The instance updater lock (omicron #5831, nexus/db-queries/src/db/datastore/instance.rs):
// `updater_id` names the saga that holds it, `updater_gen` counts every change of hands, and
// both live apart from the runtime state so a runtime write can never release or reset them.
// Only instance-update sagas take it; each undo releases it.

import { panic } from '../../assert.ts';
import type { CommitOutcome, LockResult, StaleLockFields, UpdaterLock } from '../queries.ts';
import type { IntendedState } from '../../common/vmm-state.ts';
import { write, type InstanceRuntime, type Tables } from '../tables.ts';
import { liveInstance, setRuntime } from './instance.ts';

/** lock(S): re-entrant for S; another holder -> AlreadyLocked; free -> S at gen + 1. */
export function updaterLock(tables: Tables, instanceId: string, sagaId: string): LockResult {
  const row = liveInstance(tables, instanceId);
  if (row === null) return { kind: 'NotFound' };
  if (row.updaterId === sagaId) return { kind: 'Locked', lock: { id: sagaId, gen: row.updaterGen } };
  if (row.updaterId !== null) return { kind: 'AlreadyLocked' };
  const gen = row.updaterGen;
  write(tables, () => {
    row.updaterId = sagaId;
    row.updaterGen++;
  });
  // The CAS hands the lock on at a higher updater_gen: a holder of an older generation can not unlock it.
  if (!(row.updaterId === sagaId && row.updaterGen === gen + 1)) panic(`instance ${instanceId}: lock by ${sagaId} did not take at gen ${gen + 1}`);
  return { kind: 'Locked', lock: { id: sagaId, gen: row.updaterGen } };
}

/** inherit({P, g}, C): the lock passes from parent to child, gen + 1; already C's -> Ok. */
export function updaterInherit(tables: Tables, instanceId: string, parent: UpdaterLock, child: string): LockResult {
  const row = liveInstance(tables, instanceId);
  if (row === null) return { kind: 'NotFound' };
  if (row.updaterId === child) return { kind: 'Locked', lock: { id: child, gen: row.updaterGen } };
  if (row.updaterId !== parent.id || row.updaterGen !== parent.gen) return { kind: 'AlreadyLocked' };
  write(tables, () => {
    row.updaterId = child;
    row.updaterGen++;
  });
  if (!(row.updaterId === child && row.updaterGen === parent.gen + 1)) panic(`instance ${instanceId}: the lock did not pass from ${parent.id} to ${child}`);
  return { kind: 'Locked', lock: { id: child, gen: row.updaterGen } };
}

/** unlock({S, g}): only the holder at that generation; anything else -> false. */
export function updaterUnlock(tables: Tables, instanceId: string, lock: UpdaterLock): { unlocked: boolean } {
  const row = liveInstance(tables, instanceId);
  if (row === null || row.updaterId !== lock.id || row.updaterGen !== lock.gen) return { unlocked: false };
  write(tables, () => {
    row.updaterId = null;
    row.updaterGen++;
  });
  if (!(row.updaterId === null && row.updaterGen === lock.gen + 1)) panic(`instance ${instanceId}: unlock by ${lock.id} left it held or at the same gen`);
  return { unlocked: true };
}

/**
 * commit_update: write the runtime and unlock in one transaction, only while the lock holds and
 * the state generation is still below the new one. A null lock (nexus/no-updater-lock) checks
 * the generation alone.
 */
export function instanceCommitUpdate(
  tables: Tables,
  r: { instanceId: string; lock: UpdaterLock | null; runtime: InstanceRuntime; intended: IntendedState | null; stale: StaleLockFields },
): { outcome: CommitOutcome } {
  const row = liveInstance(tables, r.instanceId);
  if (row === null) return { outcome: 'NotFound' };
  const holds = r.lock === null || (row.updaterId === r.lock.id && row.updaterGen === r.lock.gen);
  const fresh = row.stateGeneration < r.runtime.stateGeneration;
  if (holds && fresh) {
    const gen = row.stateGeneration;
    write(tables, () => {
      setRuntime(row, r.runtime, r.stale);
      if (r.intended !== null) row.intendedState = r.intended;
      if (r.lock !== null && r.stale === null) {
        row.updaterId = null;
        row.updaterGen++;
      }
    });
    // One generation up, never past the one the update computed; the holder's lock is released with it.
    if (!(row.stateGeneration === gen + 1 && row.stateGeneration <= r.runtime.stateGeneration)) panic(`instance ${r.instanceId}: commit_update wrote gen ${row.stateGeneration} over ${gen}`);
    if (!(r.lock === null || r.stale !== null || (row.updaterId === null && row.updaterGen > r.lock.gen))) panic(`instance ${r.instanceId}: commit_update kept the lock of ${r.lock?.id}`);
    return { outcome: 'Committed' };
  }
  if (!fresh && !holds) return { outcome: 'AlreadyDone' };
  return { outcome: 'Conflict' };
}
