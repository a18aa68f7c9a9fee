// The transactions themselves, as plain functions over the tables. Each runs to completion
// inside one step of the CockroachDB node, so each is atomic; conditional writes check their
// condition and write in the same call, as the real CTEs do.

import { match } from 'ts-pattern';
import { panicUnless } from '../assert.ts';
import { isTerminal, NONEXISTENT_STATES, type VmmRuntimeState, type VmmState } from '../common/vmm-state.ts';
import type { DbRequest, InstanceSnapshot, VmmWriteResult } from './queries.ts';
import type { InstanceRow, Tables, VmmRow } from './tables.ts';

export function execute(tables: Tables, request: DbRequest, nowMs: number): unknown {
  return match(request)
    .with({ type: 'InstanceCreate' }, (r) => instanceCreate(tables, r.instanceId))
    .with({ type: 'InstanceFetch' }, (r) => instanceFetch(tables, r.instanceId))
    .with({ type: 'InstanceSetIntendedState' }, (r) => {
      const row = tables.instance.get(r.instanceId);
      if (row === undefined) return { found: false };
      if (row.intendedState !== r.intended) write(tables, () => (row.intendedState = r.intended));
      return { found: true };
    })
    .with({ type: 'InstanceStartVmm' }, (r) => ({ started: instanceStartVmm(tables, r, nowMs) }))
    .with({ type: 'InstanceClearFailed' }, (r) => {
      const row = tables.instance.get(r.instanceId);
      const ok = row !== undefined && row.stateGeneration === r.expectedGeneration && row.state === 'Failed';
      if (ok) write(tables, () => setRuntime(row, 'NoVmm', null));
      return { updated: ok };
    })
    .with({ type: 'VmmUpdateRuntime' }, (r) => vmmUpdateRuntime(tables, r.vmmId, r.runtime, null))
    .with({ type: 'VmmMarkFailed' }, (r) => vmmUpdateRuntime(tables, r.vmmId, { state: 'Failed', gen: r.gen }, SYNTHESIZED_FAILED_OVER))
    .with({ type: 'InstanceCommitUpdate' }, (r) => ({ committed: instanceCommitUpdate(tables, r, nowMs) }))
    .with({ type: 'InstanceAndVmmListBySledAgent' }, () => ({
      vmms: [...tables.vmm.values()].filter((v) => v.timeDeleted === null && !NONEXISTENT_STATES.includes(v.state)).map(copyVmm),
    }))
    .with({ type: 'InstancesNeedingUpdate' }, () => ({
      instanceIds: [...tables.instance.values()]
        .filter((i) => {
          const vmm = i.activePropolisId === null ? undefined : tables.vmm.get(i.activePropolisId);
          return vmm !== undefined && isTerminal(vmm.state);
        })
        .map((i) => i.id),
    }))
    .exhaustive();
}

/** States a synthesized Failed may overwrite: the VMM is believed to be on a sled. */
const SYNTHESIZED_FAILED_OVER: readonly VmmState[] = ['Starting', 'Running', 'Stopping', 'Stopped', 'Rebooting', 'Migrating'];

export function vmmUpdateRuntime(tables: Tables, vmmId: string, runtime: VmmRuntimeState, onlyFrom: readonly VmmState[] | null): VmmWriteResult {
  const row = tables.vmm.get(vmmId);
  if (row === undefined || row.timeDeleted !== null) return { found: false, updated: false, instanceId: row?.instanceId ?? null };
  const lands = runtime.gen > row.gen && (onlyFrom === null || onlyFrom.includes(row.state));
  if (lands) {
    write(tables, () => {
      row.state = runtime.state;
      row.gen = runtime.gen;
    });
  }
  return { found: true, updated: lands, instanceId: row.instanceId };
}

function instanceCreate(tables: Tables, instanceId: string): { created: boolean } {
  if (tables.instance.has(instanceId)) return { created: false };
  write(tables, () =>
    tables.instance.set(instanceId, {
      id: instanceId,
      state: 'NoVmm',
      stateGeneration: 1,
      activePropolisId: null,
      intendedState: 'Stopped',
      timeDeleted: null,
    }),
  );
  return { created: true };
}

function instanceFetch(tables: Tables, instanceId: string): InstanceSnapshot | null {
  const row = tables.instance.get(instanceId);
  if (row === undefined || row.timeDeleted !== null) return null;
  const vmm = row.activePropolisId === null ? undefined : tables.vmm.get(row.activePropolisId);
  panicUnless(row.activePropolisId === null || vmm !== undefined, `instance ${instanceId} points at a missing VMM`);
  return { instance: { ...row }, activeVmm: vmm === undefined ? null : copyVmm(vmm) };
}

function instanceStartVmm(tables: Tables, r: { instanceId: string; expectedGeneration: number; vmmId: string; sledId: string }, nowMs: number): boolean {
  const row = tables.instance.get(r.instanceId);
  if (row === undefined) return false;
  // Idempotent, like a saga action: the same request again (a retry, a duplicate) succeeds.
  if (row.activePropolisId === r.vmmId) return true;
  if (row.stateGeneration !== r.expectedGeneration || row.activePropolisId !== null) return false;
  if (row.state !== 'NoVmm' && row.state !== 'Failed') return false;
  panicUnless(!tables.vmm.has(r.vmmId), `VMM id ${r.vmmId} reused`);
  write(tables, () => {
    tables.vmm.set(r.vmmId, {
      id: r.vmmId,
      instanceId: r.instanceId,
      sledId: r.sledId,
      state: 'Creating',
      gen: 1,
      timeCreated: nowMs,
      timeDeleted: null,
    });
    setRuntime(row, 'Vmm', r.vmmId);
    row.intendedState = 'Running';
  });
  return true;
}

function instanceCommitUpdate(tables: Tables, r: { instanceId: string; expectedGeneration: number; vmmId: string; newState: 'NoVmm' | 'Failed' }, nowMs: number): boolean {
  const row = tables.instance.get(r.instanceId);
  if (row === undefined || row.stateGeneration !== r.expectedGeneration || row.activePropolisId !== r.vmmId) return false;
  const vmm = tables.vmm.get(r.vmmId);
  panicUnless(vmm !== undefined && isTerminal(vmm.state), `update commit for VMM ${r.vmmId} that is not terminal`);
  write(tables, () => {
    setRuntime(row, r.newState, null);
    vmm.timeDeleted = nowMs;
  });
  return true;
}

/** Every runtime change of an instance bumps its state generation by exactly one. */
function setRuntime(row: InstanceRow, state: InstanceRow['state'], activePropolisId: string | null): void {
  panicUnless((state === 'Vmm') === (activePropolisId !== null), `instance ${row.id}: state ${state} with active VMM ${activePropolisId}`);
  row.state = state;
  row.activePropolisId = activePropolisId;
  row.stateGeneration++;
}

function write(tables: Tables, fn: () => void): void {
  fn();
  tables.writes++;
}

function copyVmm(v: VmmRow): VmmRow {
  return { ...v };
}
