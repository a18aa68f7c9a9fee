// Migration records and the instance's migration ids. Each side of a migration belongs to one
// sled-agent, which alone moves that side's generation; Nexus writes a side only through a
// report from that side's VMM, or fails both when a migrate saga unwinds.

import { panic } from '../../assert.ts';
import { isMigrationTerminal, type MigrationRuntimeState } from '../../common/vmm-state.ts';
import type { StaleLockFields } from '../queries.ts';
import { write, type Tables } from '../tables.ts';
import { liveInstance, setRuntime } from './instance.ts';

export function migrationInsert(tables: Tables, r: { migrationId: string; instanceId: string; sourcePropolisId: string; targetPropolisId: string }, nowMs: number): { inserted: boolean } {
  if (tables.migration.has(r.migrationId)) return { inserted: false };
  if (r.sourcePropolisId === r.targetPropolisId) panic(`migration ${r.migrationId}: VMM ${r.sourcePropolisId} migrates to itself`);
  write(tables, () =>
    tables.migration.set(r.migrationId, {
      id: r.migrationId,
      instanceId: r.instanceId,
      sourcePropolisId: r.sourcePropolisId,
      targetPropolisId: r.targetPropolisId,
      sourceState: 'Pending',
      sourceGen: 1,
      targetState: 'Pending',
      targetGen: 1,
      timeCreated: nowMs,
    }),
  );
  return { inserted: true };
}

export function migrationMarkFailed(tables: Tables, migrationId: string): { updated: boolean } {
  const row = tables.migration.get(migrationId);
  if (row === undefined) return { updated: false };
  const source = !isMigrationTerminal(row.sourceState);
  const target = !isMigrationTerminal(row.targetState);
  if (!source && !target) return { updated: false };
  write(tables, () => {
    if (source) {
      row.sourceState = 'Failed';
      row.sourceGen++;
    }
    if (target) {
      row.targetState = 'Failed';
      row.targetGen++;
    }
  });
  if (!(isMigrationTerminal(row.sourceState) && isMigrationTerminal(row.targetState))) panic(`migration ${migrationId}: marked failed with a side still open`);
  return { updated: true };
}

/** Apply one side of a sled-agent's report; true if it landed in a terminal state. */
export function migrationSideUpdate(tables: Tables, vmmId: string, side: 'in' | 'out', report: MigrationRuntimeState): { landed: boolean; terminal: boolean } {
  const row = tables.migration.get(report.migrationId);
  if (row === undefined) return { landed: false, terminal: false };
  const target = side === 'in';
  if ((target ? row.targetPropolisId : row.sourcePropolisId) !== vmmId) return { landed: false, terminal: false };
  const gen = target ? row.targetGen : row.sourceGen;
  if (report.gen <= gen) return { landed: false, terminal: false };
  write(tables, () => {
    if (target) {
      row.targetState = report.state;
      row.targetGen = report.gen;
    } else {
      row.sourceState = report.state;
      row.sourceGen = report.gen;
    }
  });
  // Only that side moved, and to a higher generation (the guard above).
  const landed = target ? row.targetState === report.state && row.targetGen === report.gen : row.sourceState === report.state && row.sourceGen === report.gen;
  if (!(landed && report.gen > gen)) panic(`migration ${report.migrationId}: the ${side} side did not land at gen ${report.gen}`);
  return { landed: true, terminal: isMigrationTerminal(report.state) };
}

export function instanceSetMigrationIds(
  tables: Tables,
  r: { instanceId: string; sourcePropolisId: string; migrationId: string; targetPropolisId: string; stale: StaleLockFields },
): { set: boolean; locked: boolean } {
  const row = liveInstance(tables, r.instanceId);
  if (row === null || row.activePropolisId !== r.sourcePropolisId) return { set: false, locked: false };
  if (row.migrationId === r.migrationId && row.targetPropolisId === r.targetPropolisId) return { set: true, locked: false };
  if (r.stale === null && row.updaterId !== null) return { set: false, locked: true };
  const source = tables.vmm.get(r.sourcePropolisId);
  if (source === undefined || (source.state !== 'Running' && source.state !== 'Rebooting')) return { set: false, locked: false };
  if (row.migrationId !== null || row.targetPropolisId !== null) {
    // Only over what an unwound migrate saga left: its target SagaUnwound, both sides Failed.
    const old = row.migrationId === null ? undefined : tables.migration.get(row.migrationId);
    const oldTarget = row.targetPropolisId === null ? undefined : tables.vmm.get(row.targetPropolisId);
    const leftOver = oldTarget?.state === 'SagaUnwound' && (old === undefined || (old.sourceState === 'Failed' && old.targetState === 'Failed'));
    if (!leftOver) return { set: false, locked: false };
  }
  write(tables, () => setRuntime(row, { state: row.state, stateGeneration: row.stateGeneration, activePropolisId: row.activePropolisId, targetPropolisId: r.targetPropolisId, migrationId: r.migrationId }, r.stale));
  if (!(row.activePropolisId === r.sourcePropolisId && row.migrationId === r.migrationId && row.targetPropolisId === r.targetPropolisId)) panic(`instance ${r.instanceId}: migration ids not set`);
  return { set: true, locked: false };
}
