// UpdatesRequired::for_instance (nexus/src/app/sagas/instance_update/mod.rs), the part that does
// not involve migrations yet: from a snapshot read under the updater lock, what the update saga
// must change. Pure: the sagas in sagas/instance-update.ts carry it out.

import { isTerminal, type IntendedState } from '../common/vmm-state.ts';
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

export function updatesRequired({ instance, activeVmm }: InstanceSnapshot): UpdatesRequired | null {
  if (activeVmm === null || !isTerminal(activeVmm.state)) return null;
  const failed = activeVmm.state === 'Failed';
  const runtime: InstanceRuntime = {
    state: failed ? 'Failed' : 'NoVmm',
    stateGeneration: instance.stateGeneration + 1,
    activePropolisId: null,
    targetPropolisId: instance.targetPropolisId,
    migrationId: instance.migrationId,
  };
  // A VMM that shut down while the instance was meant to run: the guest shut itself down.
  const intended = !failed && instance.intendedState === 'Running' && instance.migrationId === null ? 'GuestShutdown' : null;
  return { runtime, intended, deprovision: true, destroyedVmms: [activeVmm.id] };
}
