// Record invariants of the instance lifecycle (docs/protocols.md, scenario `instance-lifecycle`), checked after every
// committed database write.
// O-I2  An instance is in state Vmm exactly when it has an active VMM; the VMMs in its active and
//       target slots are not deleted.
// O-I3  updater_gen never goes down; a held lock (on an instance not deleted) belongs to a saga
//       that is running or unwinding (or has handed it to its child saga, which is).
// O-I4  state_generation moves only with the runtime state, and by exactly one per write.
// O-I1  (its migration half) Each migration side's generation never goes down, and its state
//       never changes without a higher one.
// O-I7  An instance with a migration under way shows Migrating. Virtual provisioning: the
//       collection's totals are the sum of the charged instances and
//       never negative; an instance is charged exactly when it has an active VMM (a SagaUnwound one
//       counts as none), except while a saga is working on it (a start charges after it links its
//       VMM, an update releases before it commits).

import type { InstanceRow, Tables } from '../model/crdb/tables.ts';
import { effectiveState } from '../model/nexus/effective-state.ts';
import type { Finding } from '../sim/runner.ts';
import { unfinished } from './instance-world.ts';

/** What the oracle last saw of an instance: updated in place, as it is checked after every write. */
interface SeenInstance {
  stateGeneration: number;
  updaterGen: number;
  state: InstanceRow['state'];
  activePropolisId: string | null;
  targetPropolisId: string | null;
  migrationId: string | null;
}

interface SeenMigration {
  sourceState: string;
  sourceGen: number;
  targetState: string;
  targetGen: number;
}

export class InstanceRecords {
  readonly #seen = new Map<string, SeenInstance>();
  readonly #sides = new Map<string, SeenMigration>();

  check(tables: Tables): Finding | null {
    return this.#generations(tables) ?? this.#migrationSides(tables) ?? vmmSlots(tables) ?? lockHolders(tables) ?? migrating(tables) ?? provisioning(tables);
  }

  #migrationSides(tables: Tables): Finding | null {
    for (const m of tables.migration.values()) {
      const prev = this.#sides.get(m.id);
      if (prev === undefined) {
        this.#sides.set(m.id, { sourceState: m.sourceState, sourceGen: m.sourceGen, targetState: m.targetState, targetGen: m.targetGen });
        continue;
      }
      const finding = sideMoved(m.id, 'source', prev.sourceState, prev.sourceGen, m.sourceState, m.sourceGen) ?? sideMoved(m.id, 'target', prev.targetState, prev.targetGen, m.targetState, m.targetGen);
      prev.sourceState = m.sourceState;
      prev.sourceGen = m.sourceGen;
      prev.targetState = m.targetState;
      prev.targetGen = m.targetGen;
      if (finding !== null) return finding;
    }
    return null;
  }

  #generations(tables: Tables): Finding | null {
    for (const row of tables.instance.values()) {
      const prev = this.#seen.get(row.id);
      if (prev === undefined) {
        this.#seen.set(row.id, { stateGeneration: row.stateGeneration, updaterGen: row.updaterGen, state: row.state, activePropolisId: row.activePropolisId, targetPropolisId: row.targetPropolisId, migrationId: row.migrationId });
        continue;
      }
      const finding = generationFinding(row, prev);
      prev.stateGeneration = row.stateGeneration;
      prev.updaterGen = row.updaterGen;
      prev.state = row.state;
      prev.activePropolisId = row.activePropolisId;
      prev.targetPropolisId = row.targetPropolisId;
      prev.migrationId = row.migrationId;
      if (finding !== null) return finding;
    }
    return null;
  }
}

function generationFinding(row: InstanceRow, prev: SeenInstance): Finding | null {
  if (row.updaterGen < prev.updaterGen) {
    return { invariant: 'O-I3', message: `instance ${row.id}: updater_gen went down ${prev.updaterGen} -> ${row.updaterGen} (lock now ${row.updaterId ?? 'free'})` };
  }
  const moved = row.stateGeneration !== prev.stateGeneration;
  if (moved && row.stateGeneration !== prev.stateGeneration + 1) {
    return { invariant: 'O-I4', message: `instance ${row.id}: state_generation ${prev.stateGeneration} -> ${row.stateGeneration}, not by one` };
  }
  const runtimeMoved = row.state !== prev.state || row.activePropolisId !== prev.activePropolisId || row.targetPropolisId !== prev.targetPropolisId || row.migrationId !== prev.migrationId;
  if (moved !== runtimeMoved) {
    return { invariant: 'O-I4', message: `instance ${row.id}: runtime ${runtimeKey(prev)} -> ${runtimeKey(row)} at generation ${prev.stateGeneration} -> ${row.stateGeneration}` };
  }
  return null;
}

function sideMoved(id: string, side: string, oldState: string, oldGen: number, state: string, gen: number): Finding | null {
  if (gen > oldGen || (gen === oldGen && state === oldState)) return null;
  return { invariant: 'O-I1', message: `migration ${id}: the ${side} side went ${oldState}@${oldGen} -> ${state}@${gen}` };
}

function runtimeKey(r: Pick<InstanceRow, 'state' | 'activePropolisId' | 'targetPropolisId' | 'migrationId'>): string {
  return `${r.state}/${r.activePropolisId ?? '-'}/${r.targetPropolisId ?? '-'}/${r.migrationId ?? '-'}`;
}

function vmmSlots(tables: Tables): Finding | null {
  for (const row of tables.instance.values()) {
    if (row.timeDeleted !== null) continue;
    if ((row.state === 'Vmm') !== (row.activePropolisId !== null)) {
      return { invariant: 'O-I2', message: `instance ${row.id} is ${row.state} with active VMM ${row.activePropolisId ?? 'none'}` };
    }
    const finding = vmmSlot(tables, row.id, 'active', row.activePropolisId) ?? vmmSlot(tables, row.id, 'target', row.targetPropolisId);
    if (finding !== null) return finding;
  }
  return null;
}

function vmmSlot(tables: Tables, instanceId: string, slot: string, id: string | null): Finding | null {
  if (id === null) return null;
  const vmm = tables.vmm.get(id);
  if (vmm !== undefined && vmm.timeDeleted === null) return null;
  return { invariant: 'O-I2', message: `instance ${instanceId}: its ${slot} VMM ${id} is ${vmm === undefined ? 'missing' : 'deleted'}` };
}

function lockHolders(tables: Tables): Finding | null {
  for (const row of tables.instance.values()) {
    if (row.updaterId === null || row.timeDeleted !== null) continue; // a deleted instance's lock is moot
    const holder = tables.saga.get(row.updaterId);
    const child = tables.saga.get(`${row.updaterId}.real`);
    if ((holder !== undefined && unfinished(holder)) || (child !== undefined && unfinished(child))) continue;
    return {
      invariant: 'O-I3',
      message: `instance ${row.id} is locked by ${row.updaterId} (gen ${row.updaterGen}), which is ${holder === undefined ? 'not a saga' : `a saga in state ${holder.state}`}`,
    };
  }
  return null;
}

function migrating(tables: Tables): Finding | null {
  for (const row of tables.instance.values()) {
    if (row.timeDeleted !== null || row.migrationId === null || row.state !== 'Vmm') continue;
    const activeVmm = row.activePropolisId === null ? null : (tables.vmm.get(row.activePropolisId) ?? null);
    const shown = effectiveState({ instance: row, activeVmm });
    if (shown !== 'Migrating') return { invariant: 'O-I7', message: `instance ${row.id} has migration ${row.migrationId} under way but shows ${shown}` };
  }
  return null;
}

function provisioning(tables: Tables): Finding | null {
  let cpus = 0;
  let ramMib = 0;
  for (const row of tables.provisioning.values()) {
    cpus += row.cpus;
    ramMib += row.ramMib;
  }
  const { collection } = tables;
  if (collection.cpus !== cpus || collection.ramMib !== ramMib || cpus < 0 || ramMib < 0) {
    return { invariant: 'O-I7', message: `provisioning totals ${collection.cpus} CPUs / ${collection.ramMib} MiB, charged rows add up to ${cpus} / ${ramMib}` };
  }
  for (const row of tables.instance.values()) {
    const charged = tables.provisioning.has(row.id);
    const vmmState = row.activePropolisId === null ? undefined : tables.vmm.get(row.activePropolisId)?.state;
    const active = row.activePropolisId !== null && vmmState !== 'SagaUnwound';
    if (charged === active || tables.sagasInFlight.has(row.id)) continue;
    // An update saga releases the charge of a VMM that is gone before it commits, with no undo
    // (siu_release_virtual_provisioning): one that then fails leaves the gone VMM uncharged
    // until the next update (which the instance_updater task starts) commits. Nothing is lost.
    if (!charged && (vmmState === 'Destroyed' || vmmState === 'Failed')) continue;
    return {
      invariant: 'O-I7',
      message: active
        ? `instance ${row.id} runs VMM ${row.activePropolisId} but no provisioning is charged for it`
        : `instance ${row.id} has no active VMM but is still charged for ${tables.provisioning.get(row.id)!.cpus} CPUs`,
    };
  }
  return null;
}
