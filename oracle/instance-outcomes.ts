// Outcomes and leaked resources of the instance lifecycle, checked once every fault has healed
// (after O-L1..O-L3 hold: sagas finished, VMMs folded in and reaped). Each asks what a user loses:
// O-L4  Each sled-agent's VMM table agrees with the database: no VMM runs that the database has
//       deleted or that no instance holds (a zombie: a VM nobody can stop, burning the sled's CPU
//       and memory), and no Destroyed VMM is kept once the database has its Destroyed state
//       (RFD 486 §6.1: it leaves the table once Nexus has acknowledged it).
// O-L5  Every saga's outcome is whole: no instance keeps a migration id; an unwound instance
//       start or migration left no VMM of its own registered on a sled, and an unwound start no
//       provisioning charge for its VMM.

import { isTerminal, type VmmState } from '../model/common/vmm-state.ts';
import type { SagaRow, Tables } from '../model/crdb/tables.ts';
import type { Finding } from '../sim/runner.ts';

/** What a sled-agent's table says of a VMM. */
export interface SledVmm {
  readonly state: VmmState;
  readonly gen: number;
}

export interface OutcomeWorld {
  readonly sledIds: readonly string[];
  tables(): Tables;
  /** The sled-agent's VMM table; null while the sled-agent is down. */
  sledVmms(sledId: string): ReadonlyMap<string, SledVmm> | null;
}

export function outcomesGoal(world: OutcomeWorld): Finding | null {
  return sledTablesAgree(world) ?? migrationsSettled(world.tables()) ?? unwoundSagasUndone(world);
}

function heldVmms(tables: Tables): Set<string> {
  const held = new Set<string>();
  for (const row of tables.instance.values()) {
    if (row.timeDeleted !== null) continue;
    if (row.activePropolisId !== null) held.add(row.activePropolisId);
    if (row.targetPropolisId !== null) held.add(row.targetPropolisId);
  }
  return held;
}

export function sledTablesAgree(world: OutcomeWorld): Finding | null {
  const tables = world.tables();
  const held = heldVmms(tables);
  for (const sledId of world.sledIds) {
    for (const [vmmId, vmm] of world.sledVmms(sledId) ?? []) {
      const row = tables.vmm.get(vmmId);
      if (vmm.state !== 'Destroyed') {
        if (row === undefined || row.timeDeleted !== null) return { invariant: 'O-L4', message: `${sledId} runs VMM ${vmmId} (${vmm.state}), which the database has deleted: a zombie nobody can stop` };
        if (!held.has(vmmId)) return { invariant: 'O-L4', message: `${sledId} runs VMM ${vmmId} (${vmm.state}), which no instance holds (the database has it ${row.state})` };
        continue;
      }
      if (row === undefined || (row.state === 'Destroyed' && row.gen >= vmm.gen)) return { invariant: 'O-L4', message: `${sledId} keeps Destroyed VMM ${vmmId} although the database has that state` };
    }
  }
  return null;
}

/**
 * No instance is left naming a migration. The migration records themselves are not held to
 * terminal states: each side is written only by its own VMM's reports, and a VMM lost in a sled
 * crash never reports again (upstream leaves such a record InProgress too: Nexus marks the VMM
 * Failed, not its migration side). The record is history; what a user loses is an instance that
 * stays "migrating", refusing the next migration, which this checks.
 */
function migrationsSettled(tables: Tables): Finding | null {
  for (const row of tables.instance.values()) {
    if (row.timeDeleted !== null || row.migrationId === null) continue;
    const m = tables.migration.get(row.migrationId);
    return { invariant: 'O-L5', message: `instance ${row.id} still has migration ${row.migrationId}${m === undefined ? '' : ` (source ${m.sourceState}, target ${m.targetState})`}` };
  }
  return null;
}

/** The VMM an unwound start or migration created, which its undo must have taken down. */
function ownVmmOf(saga: SagaRow): { vmmId: string; sledId: string } | null {
  if (saga.state !== 'Failed') return null;
  const p = saga.params as Record<string, string>;
  if (saga.name === 'instance-start') return { vmmId: p['vmmId']!, sledId: p['sledId']! };
  if (saga.name === 'instance-migrate') return { vmmId: p['dstVmmId']!, sledId: p['dstSledId']! };
  return null;
}

function unwoundSagasUndone(world: OutcomeWorld): Finding | null {
  const tables = world.tables();
  for (const saga of tables.saga.values()) {
    const own = ownVmmOf(saga);
    if (own === null) continue;
    const onSled = world.sledVmms(own.sledId)?.get(own.vmmId);
    if (onSled !== undefined && !isTerminal(onSled.state)) return { invariant: 'O-L5', message: `saga ${saga.name} ${saga.id} unwound, but its VMM ${own.vmmId} is still ${onSled.state} on ${own.sledId}` };
    const charged = tables.provisioning.get((saga.params as { instanceId: string }).instanceId);
    if (saga.name === 'instance-start' && charged?.vmmId === own.vmmId) return { invariant: 'O-L5', message: `saga ${saga.name} ${saga.id} unwound, but the charge for its VMM ${own.vmmId} remains` };
  }
  return null;
}
