// Liveness goals of the instance lifecycle, checked once every fault has healed.
// O-L1  Every terminal VMM has been folded in by a committed update saga: no instance keeps a
//       Destroyed or Failed active VMM, no updater lock is held, no saga is left unfinished.
// O-L2  Every VMM record no instance holds is eventually deleted: abandoned VMMs (Destroyed,
//       Failed or SagaUnwound) are reaped, and none is left behind in another state (a record
//       no one will ever act on, or a VMM running for no instance); Failed instances that may
//       auto-restart and are meant to run have been restarted.
// O-L3  Every instance settles where the user last asked, once the user's script has finished:
//       stop (or nothing) -> NoVmm; start -> Vmm with its VMM Running (or NoVmm if its guest shut
//       itself down since); an accepted delete -> deleted. An instance whose VMM a crash lost (or
//       that failed by itself) may be Failed instead, unless it was meant to run and may
//       auto-restart (then O-L2 wants it restarted), or stopped, if its start saga unwound.

import { DESTROYABLE_STATES, isTerminal } from '../model/common/vmm-state.ts';
import type { Finding } from '../sim/runner.ts';
import { faultExplainingFailure, unfinished, type InstanceWorld } from './instance-world.ts';

export function instanceLivenessGoal(world: InstanceWorld, instanceIds: readonly string[]): Finding | null {
  return foldedIn(world) ?? reaped(world) ?? settled(world, instanceIds);
}

export { describe as describeInstance };

function foldedIn(world: InstanceWorld): Finding | null {
  const tables = world.tables();
  for (const row of tables.instance.values()) {
    if (row.timeDeleted !== null) continue;
    const vmm = row.activePropolisId === null ? undefined : tables.vmm.get(row.activePropolisId);
    if (vmm !== undefined && isTerminal(vmm.state)) return { invariant: 'O-L1', message: `instance ${row.id} still has its ${vmm.state} VMM ${vmm.id} active` };
    if (row.updaterId !== null) return { invariant: 'O-L1', message: `instance ${row.id} is still locked by ${row.updaterId}` };
  }
  for (const saga of tables.saga.values()) {
    if (unfinished(saga)) return { invariant: 'O-L1', message: `saga ${saga.name} ${saga.id} on ${saga.instanceId} is still ${saga.state}` };
  }
  return null;
}

function reaped(world: InstanceWorld): Finding | null {
  const tables = world.tables();
  const held = new Set<string>();
  for (const row of tables.instance.values()) {
    if (row.activePropolisId !== null) held.add(row.activePropolisId);
    if (row.targetPropolisId !== null) held.add(row.targetPropolisId);
  }
  for (const vmm of tables.vmm.values()) {
    if (vmm.timeDeleted !== null || held.has(vmm.id)) continue;
    return {
      invariant: 'O-L2',
      message: DESTROYABLE_STATES.includes(vmm.state)
        ? `abandoned VMM ${vmm.id} (${vmm.state}) was never reaped`
        : `VMM ${vmm.id} is left ${vmm.state}, held by no instance, and nothing will ever delete it`,
    };
  }
  for (const row of tables.instance.values()) {
    if (row.timeDeleted === null && showsFailed(world, row.id) && row.intendedState === 'Running' && row.autoRestartPolicy !== 'Never') {
      return { invariant: 'O-L2', message: `instance ${row.id} is Failed, meant to run and may auto-restart, but was not restarted` };
    }
  }
  return null;
}

function settled(world: InstanceWorld, instanceIds: readonly string[]): Finding | null {
  const tables = world.tables();
  const user = world.user();
  if (user === null) return { invariant: 'O-L3', message: 'the user node is down' };
  if (user.abandoned.length > 0) return { invariant: 'O-L3', message: `the user gave up on ${user.abandoned[0]}` };
  for (const id of instanceIds) {
    if (!user.finished.has(id)) return { invariant: 'O-L3', message: `the user's requests for ${id} have not finished` };
    const row = tables.instance.get(id);
    if (row === undefined) return { invariant: 'O-L3', message: `instance ${id} was never created` };
    const asked = user.lastAsked.get(id) ?? 'stop';
    if (asked === 'delete') {
      if (user.deleted.has(id) && row.timeDeleted === null) return { invariant: 'O-L3', message: `instance ${id}'s delete was accepted but it is ${row.state}` };
      continue;
    }
    // A sled-agent crash that lost the instance's VMM explains it ending Failed (if it may not
    // auto-restart: else O-L2 wants it restarted) or stopped (its start saga unwound).
    const lost = faultExplainingFailure(world, id) !== null;
    if (lost && showsFailed(world, id) && (asked === 'stop' || row.autoRestartPolicy === 'Never')) continue;
    if (lost && row.state === 'NoVmm' && asked === 'start') continue;
    // The guest shut itself down after the user's start: Nexus leaves it stopped (GuestShutdown).
    if (asked === 'start' && row.state === 'NoVmm' && row.intendedState === 'GuestShutdown') continue;
    // A refused reboot set the intent to Running: stopped, Failed or running again are all what
    // the user may see, but a VMM it has must have settled Running.
    if (asked === 'reboot') {
      const vmm = row.activePropolisId === null ? undefined : tables.vmm.get(row.activePropolisId);
      if (row.state === 'Vmm' && vmm?.state !== 'Running') return { invariant: 'O-L3', message: `instance ${id} was last asked to reboot (refused) but is ${describe(world, id)}` };
      continue;
    }
    if (asked === 'stop' && row.state !== 'NoVmm') return { invariant: 'O-L3', message: `instance ${id} was last asked to stop but is ${describe(world, id)}` };
    if (asked === 'start') {
      const vmm = row.activePropolisId === null ? undefined : tables.vmm.get(row.activePropolisId);
      if (row.state !== 'Vmm' || vmm?.state !== 'Running') return { invariant: 'O-L3', message: `instance ${id} was last asked to start but is ${describe(world, id)}` };
    }
  }
  return null;
}

/** Failed as the user sees it: Failed with no VMM, or on a VMM an unwound saga left behind. */
function showsFailed(world: InstanceWorld, id: string): boolean {
  const tables = world.tables();
  const row = tables.instance.get(id)!;
  const vmm = row.activePropolisId === null ? undefined : tables.vmm.get(row.activePropolisId);
  return row.state === 'Failed' || (row.state === 'Vmm' && vmm?.state === 'SagaUnwound');
}

function describe(world: InstanceWorld, id: string): string {
  const tables = world.tables();
  const row = tables.instance.get(id)!;
  const vmm = row.activePropolisId === null ? undefined : tables.vmm.get(row.activePropolisId);
  return vmm === undefined ? row.state : `${row.state} (VMM ${vmm.id} ${vmm.state} gen ${vmm.gen})`;
}
