// Liveness goals of the instance lifecycle, checked once every fault has healed.
// O-L1  No instance is left with a terminal active VMM: every Destroyed or Failed VMM has been
//       folded into its instance by a committed update (shared/protocols.md §2.7).
// O-L3  Every instance settles where the user last asked, once the user's script has finished:
//       stop (or never asked) -> NoVmm; start -> Vmm with its VMM Running. An instance whose VMM
//       a sled-agent crash lost may be Failed instead (nothing restarts Failed instances yet).

import { isTerminal } from '../model/common/vmm-state.ts';
import type { Finding } from '../sim/runner.ts';
import { faultExplainingFailure, type InstanceWorld } from './instance-world.ts';

export function instanceLivenessGoal(world: InstanceWorld, instanceIds: readonly string[]): Finding | null {
  const tables = world.tables();
  for (const id of instanceIds) {
    const row = tables.instance.get(id);
    const vmm = row?.activePropolisId == null ? undefined : tables.vmm.get(row.activePropolisId);
    if (vmm !== undefined && isTerminal(vmm.state)) {
      return { invariant: 'O-L1', message: `instance ${id} still has its ${vmm.state} VMM ${vmm.id} active` };
    }
  }
  const user = world.user();
  if (user === null) return { invariant: 'O-L3', message: 'the user node is down' };
  if (user.abandoned.length > 0) return { invariant: 'O-L3', message: `the user gave up on ${user.abandoned[0]}` };
  for (const id of instanceIds) {
    if (!user.finished.has(id)) return { invariant: 'O-L3', message: `the user's requests for ${id} have not finished` };
    const row = tables.instance.get(id);
    if (row === undefined) return { invariant: 'O-L3', message: `instance ${id} was never created` };
    const asked = user.lastAsked.get(id) ?? 'stop';
    if (row.state === 'Failed' && faultExplainingFailure(world, id) !== null) continue;
    if (asked === 'stop' && row.state !== 'NoVmm') {
      return { invariant: 'O-L3', message: `instance ${id} was last asked to stop but is ${describe(world, id)}` };
    }
    if (asked === 'start') {
      const vmm = row.activePropolisId === null ? undefined : tables.vmm.get(row.activePropolisId);
      if (row.state !== 'Vmm' || vmm?.state !== 'Running') {
        return { invariant: 'O-L3', message: `instance ${id} was last asked to start but is ${describe(world, id)}` };
      }
    }
  }
  return null;
}

function describe(world: InstanceWorld, id: string): string {
  const tables = world.tables();
  const row = tables.instance.get(id)!;
  const vmm = row.activePropolisId === null ? undefined : tables.vmm.get(row.activePropolisId);
  return vmm === undefined ? row.state : `${row.state} (VMM ${vmm.id} ${vmm.state} gen ${vmm.gen})`;
}
