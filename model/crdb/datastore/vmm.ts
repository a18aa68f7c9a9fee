// VMM records: the sled-agent's conditional reports, Nexus's own conclusions (Failed,
// SagaUnwound), deletion, and the lists the background tasks work from.

import { panic } from '../../assert.ts';
import { DESTROYABLE_STATES, isMigrationTerminal, isTerminal, NONEXISTENT_STATES, type MigrationRuntimeState, type VmmRuntimeState, type VmmState } from '../../common/vmm-state.ts';
import { migrationSideUpdate } from './migration.ts';
import type { VmmWriteResult } from '../queries.ts';
import { write, type Tables, type VmmRow } from '../tables.ts';

export function vmmInsert(tables: Tables, r: { vmmId: string; instanceId: string; sledId: string }, nowMs: number): { inserted: boolean } {
  if (tables.vmm.has(r.vmmId)) return { inserted: false }; // a re-run of the same saga node
  write(tables, () => tables.vmm.set(r.vmmId, { id: r.vmmId, instanceId: r.instanceId, sledId: r.sledId, state: 'Creating', gen: 1, timeCreated: nowMs, timeDeleted: null }));
  // Nexus records it Creating at gen 1; the sled-agent's first report (gen 2) is what lands next.
  if (tables.vmm.get(r.vmmId)?.gen !== 1) panic(`VMM ${r.vmmId}: inserted, but not at gen 1`);
  return { inserted: true };
}

/** States a synthesized Failed may overwrite: the VMM is believed to be on a sled. */
export const SYNTHESIZED_FAILED_OVER: readonly VmmState[] = ['Starting', 'Running', 'Stopping', 'Stopped', 'Rebooting', 'Migrating'];

export function vmmUpdateRuntime(tables: Tables, vmmId: string, runtime: VmmRuntimeState, onlyFrom: readonly VmmState[] | null): VmmWriteResult {
  const row = tables.vmm.get(vmmId);
  if (row === undefined || row.timeDeleted !== null) return { found: false, updated: false, instanceId: row?.instanceId ?? null };
  const gen = row.gen;
  const lands = runtime.gen > gen && (onlyFrom === null || onlyFrom.includes(row.state));
  if (lands) {
    write(tables, () => {
      row.state = runtime.state;
      row.gen = runtime.gen;
    });
  }
  // The generation guard: a report lands only above the stored generation, and then all of it.
  if (!(lands ? row.gen > gen && row.state === runtime.state : row.gen === gen)) panic(`VMM ${vmmId}: a runtime write at gen ${runtime.gen} over ${gen} left gen ${row.gen}`);
  return { found: true, updated: lands, instanceId: row.instanceId };
}

/** vmm_and_migration_update_runtime: the VMM and the migration sides it reports, in one transaction. */
export function vmmAndMigrationUpdate(
  tables: Tables,
  r: { vmmId: string; runtime: VmmRuntimeState; migrationIn?: MigrationRuntimeState | null; migrationOut?: MigrationRuntimeState | null },
): VmmWriteResult {
  const vmm = vmmUpdateRuntime(tables, r.vmmId, r.runtime, null);
  if (!vmm.found) return vmm;
  let migrationTerminal = false;
  if (r.migrationIn != null) migrationTerminal = migrationSideUpdate(tables, r.vmmId, 'in', r.migrationIn).terminal || migrationTerminal;
  if (r.migrationOut != null) migrationTerminal = migrationSideUpdate(tables, r.vmmId, 'out', r.migrationOut).terminal || migrationTerminal;
  return { ...vmm, migrationTerminal };
}

export function vmmMarkSagaUnwound(tables: Tables, vmmId: string): VmmWriteResult {
  const row = tables.vmm.get(vmmId);
  if (row === undefined || row.timeDeleted !== null) return { found: false, updated: false, instanceId: row?.instanceId ?? null };
  if (row.state === 'SagaUnwound') return { found: true, updated: false, instanceId: row.instanceId };
  const marked = vmmUpdateRuntime(tables, vmmId, { state: 'SagaUnwound', gen: row.gen + 1 }, null);
  if (!(marked.updated && tables.vmm.get(vmmId)?.state === 'SagaUnwound')) panic(`VMM ${vmmId}: not marked SagaUnwound`);
  return marked;
}

export function vmmMarkDeleted(tables: Tables, vmmId: string, nowMs: number): { deleted: boolean } {
  const row = tables.vmm.get(vmmId);
  if (row === undefined || !DESTROYABLE_STATES.includes(row.state)) return { deleted: false };
  if (row.timeDeleted === null) write(tables, () => (row.timeDeleted = nowMs));
  if (!(row.timeDeleted !== null && DESTROYABLE_STATES.includes(row.state))) panic(`VMM ${vmmId}: the delete did not take`);
  return { deleted: true };
}

export function vmmListOnSleds(tables: Tables): VmmRow[] {
  const vmms: VmmRow[] = [];
  for (const v of tables.vmm.values()) if (v.timeDeleted === null && !NONEXISTENT_STATES.includes(v.state)) vmms.push({ ...v });
  return vmms;
}

export function vmmListAbandoned(tables: Tables): VmmRow[] {
  const held = new Set<string>();
  for (const i of tables.instance.values()) {
    if (i.activePropolisId !== null) held.add(i.activePropolisId);
    if (i.targetPropolisId !== null) held.add(i.targetPropolisId);
  }
  const vmms: VmmRow[] = [];
  for (const v of tables.vmm.values()) if (v.timeDeleted === null && DESTROYABLE_STATES.includes(v.state) && !held.has(v.id)) vmms.push({ ...v });
  return vmms;
}

/** Unlocked instances whose active VMM is terminal, or whose migration has a terminal side. */
export function instancesNeedingUpdate(tables: Tables): string[] {
  const ids: string[] = [];
  for (const i of tables.instance.values()) {
    if (i.timeDeleted !== null || i.updaterId !== null) continue;
    const vmm = i.activePropolisId === null ? undefined : tables.vmm.get(i.activePropolisId);
    const migration = i.migrationId === null ? undefined : tables.migration.get(i.migrationId);
    const migrationDone = migration !== undefined && (isMigrationTerminal(migration.sourceState) || isMigrationTerminal(migration.targetState));
    if ((vmm !== undefined && isTerminal(vmm.state)) || migrationDone) ids.push(i.id);
  }
  return ids;
}

export function instancesReincarnatable(tables: Tables, nowMs: number, cooldownMs: number): string[] {
  const ids: string[] = [];
  for (const i of tables.instance.values()) {
    if (i.timeDeleted !== null || i.updaterId !== null || i.autoRestartPolicy === 'Never' || i.intendedState !== 'Running') continue;
    if (i.timeLastAutoRestarted !== null && nowMs - i.timeLastAutoRestarted < cooldownMs) continue;
    const active = i.activePropolisId === null ? undefined : tables.vmm.get(i.activePropolisId);
    const failed = i.state === 'Failed' && i.activePropolisId === null;
    if (failed || (i.state === 'Vmm' && active?.state === 'SagaUnwound')) ids.push(i.id);
  }
  return ids;
}
