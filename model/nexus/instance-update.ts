// UpdatesRequired::for_instance (nexus/src/app/sagas/instance_update/mod.rs): from a snapshot read
// under the updater lock (instance, active VMM, target VMM, migration), what the update saga must
// change (omicron b848b6df85). Pure: the sagas carry it out.
// 1. The active VMM is terminal: clear it (remember if it Failed; a Destroyed one with no migration
//    and the instance meant to run means the guest shut itself down).
// 2. The target VMM is terminal: clear it.
// 3. A migration side Failed: clear the migration and its target; the active VMM, if it
//    survives, keeps the instance.
// 4. Else a side Completed: the target becomes the active VMM, and once the target's side is
//    Completed the migration and the target are cleared. If the target died after the hand-over,
//    the instance has no VMM left and the migration is over (NoVmm even if the target Failed:
//    only the active VMM failing makes the instance Failed); if it is gone before any side
//    completed, the migration is over too.
// 5. No active VMM left: Failed if the active VMM failed, else NoVmm; release provisioning.
// 6. Nothing changed: no update.

import { isMigrationTerminal, isTerminal, type IntendedState } from '../common/vmm-state.ts';
import type { InstanceSnapshot } from '../crdb/queries.ts';
import type { InstanceRuntime } from '../crdb/tables.ts';

export interface UpdatesRequired {
  /** The runtime to commit: one generation above the snapshot's. */
  readonly runtime: InstanceRuntime;
  readonly intended: IntendedState | null;
  /** The instance is left with no active VMM: release its virtual provisioning. */
  readonly deprovision: boolean;
  /** Terminal VMMs that leave the instance, to mark deleted once the commit is in. */
  readonly destroyedVmms: readonly string[];
}

export function updatesRequired({ instance, activeVmm, targetVmm, migration }: InstanceSnapshot): UpdatesRequired | null {
  let active = instance.activePropolisId;
  let target = instance.targetPropolisId;
  let migrationId = instance.migrationId;
  let failed = false;
  let intended: IntendedState | null = null;
  const destroyed = new Set<string>();
  if (activeVmm !== null && isTerminal(activeVmm.state)) {
    active = null;
    destroyed.add(activeVmm.id);
    if (activeVmm.state === 'Failed') failed = true;
    else if (instance.intendedState === 'Running' && migration === null) intended = 'GuestShutdown';
  }
  const targetGone = targetVmm !== null && isTerminal(targetVmm.state);
  if (targetGone) {
    target = null;
    destroyed.add(targetVmm.id);
  }
  if (migration !== null && migrationId === migration.id) {
    const completed = migration.sourceState === 'Completed' || migration.targetState === 'Completed';
    if (migration.sourceState === 'Failed' || migration.targetState === 'Failed') {
      migrationId = null;
      target = null;
    } else if (completed && (targetGone || targetVmm === null)) {
      // Handed over, then the target died: the instance's VMM is gone and the migration is over.
      // Failed only if the source (the snapshot's active VMM) failed, as upstream's for_instance:
      // a failed target leaves the instance NoVmm (until issue 13 ours made it Failed).
      active = null;
      migrationId = null;
      target = null;
    } else if (completed) {
      active = migration.targetPropolisId;
      if (migration.targetState === 'Completed') {
        migrationId = null;
        target = null;
      }
    } else if (targetGone || targetVmm === null) {
      // Its target is gone (or already left the instance) before it completed.
      migrationId = null;
      target = null;
    }
  }
  const unchanged = active === instance.activePropolisId && target === instance.targetPropolisId && migrationId === instance.migrationId;
  if (unchanged) return null;
  const runtime: InstanceRuntime = {
    state: active !== null ? 'Vmm' : failed ? 'Failed' : 'NoVmm',
    stateGeneration: instance.stateGeneration + 1,
    activePropolisId: active,
    targetPropolisId: target,
    migrationId,
  };
  return { runtime, intended, deprovision: active === null, destroyedVmms: [...destroyed] };
}

/** The migration an instance is in, if it has a terminal side. */
export function migrationSettled(snapshot: InstanceSnapshot): boolean {
  const m = snapshot.migration;
  return m !== null && (isMigrationTerminal(m.sourceState) || isMigrationTerminal(m.targetState));
}
