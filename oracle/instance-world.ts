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
  /** Other nodes a VMM lives in, whose crash loses it (the Propolis it runs in), if any. */
  hostsOf?(vmmId: string): readonly string[];
  /** The VMM failed by itself (a VM that reported Failed: a device or a disk that would not start). */
  failedOnItsOwn?(vmmId: string): boolean;
}

/**
 * Faults that explain a VMM vanishing: a crash of its sled-agent (or of the Propolis it runs in)
 * after the VMM was created: their state is volatile, so the VMM is lost with it. Partitions,
 * loss, delay and duplication explain nothing: an unreachable sled-agent is inconclusive to Nexus.
 */
export function crashThatLostVmm(world: InstanceWorld, vmm: VmmRow): FaultRecord | null {
  const hosts = [vmm.sledId, ...(world.hostsOf?.(vmm.id) ?? [])];
  for (const f of world.faultLog()) {
    if ((f.kind === 'crash' || f.kind === 'kill') && hosts.includes(f.nodes[0]!) && f.startMs >= vmm.timeCreated) return f;
  }
  return null;
}

export function vmmsOfInstance(tables: Tables, instanceId: string): VmmRow[] {
  return [...tables.vmm.values()].filter((v) => v.instanceId === instanceId);
}

/** What explains an instance ending Failed, if anything: a crash that lost its VMM, or a VMM that failed by itself. */
export function faultExplainingFailure(world: InstanceWorld, instanceId: string): string | null {
  for (const vmm of vmmsOfInstance(world.tables(), instanceId)) {
    const crash = crashThatLostVmm(world, vmm);
    if (crash !== null) return crash.description;
    if (world.failedOnItsOwn?.(vmm.id) === true) return `VMM ${vmm.id} failed by itself`;
  }
  return null;
}

export function unfinished(saga: SagaRow): boolean {
  return saga.state === 'Running' || saga.state === 'Unwinding';
}
