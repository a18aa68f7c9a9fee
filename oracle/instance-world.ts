// What the instance-lifecycle invariants read: the database (the saga log included), the user's
// requests and the fault log (the sled-agents' messages arrive through the send observer).

import type { SagaRow, Tables, VmmRow } from '../model/crdb/tables.ts';
import type { UserProcess } from '../model/user/node.ts';
import type { FaultRecord } from '../sim/simulator.ts';

export interface InstanceWorld {
  readonly sledIds: readonly string[];
  tables(): Tables;
  user(): UserProcess | null;
  faultLog(): readonly FaultRecord[];
}

/**
 * Faults that explain a VMM vanishing: a crash of its sled-agent after the VMM was created
 * (the sled-agent's table is volatile, so the VMM is lost with it). Partitions, loss, delay and
 * duplication explain nothing: an unreachable sled-agent is inconclusive to Nexus.
 */
export function crashThatLostVmm(world: InstanceWorld, vmm: VmmRow): FaultRecord | null {
  for (const f of world.faultLog()) {
    if (f.kind === 'crash' && f.nodes[0] === vmm.sledId && f.startMs >= vmm.timeCreated) return f;
  }
  return null;
}

export function vmmsOfInstance(tables: Tables, instanceId: string): VmmRow[] {
  return [...tables.vmm.values()].filter((v) => v.instanceId === instanceId);
}

/** The fault that explains an instance ending Failed, if any. */
export function faultExplainingFailure(world: InstanceWorld, instanceId: string): FaultRecord | null {
  for (const vmm of vmmsOfInstance(world.tables(), instanceId)) {
    const crash = crashThatLostVmm(world, vmm);
    if (crash !== null) return crash;
  }
  return null;
}

export function unfinished(saga: SagaRow): boolean {
  return saga.state === 'Running' || saga.state === 'Unwinding';
}
