// The transactions themselves, as plain functions over the tables. Each runs to completion
// inside one step of the CockroachDB node, so each is atomic; conditional writes check their
// condition and write in the same call, as the real CTEs do.

import { panic, unreachable } from '../assert.ts';
import { isTerminal, NONEXISTENT_STATES, type VmmRuntimeState, type VmmState } from '../common/vmm-state.ts';
import type { DbRequest, InstanceSnapshot, VmmWriteResult } from './queries.ts';
import type { InstanceRow, Tables, VmmRow } from './tables.ts';

export function execute(tables: Tables, request: DbRequest, nowMs: number): unknown {
  switch (request.type) {
    case 'InstanceCreate':
      return instanceCreate(tables, request.instanceId);
    case 'InstanceFetch':
      return instanceFetch(tables, request.instanceId);
    case 'InstanceSetIntendedState': {
      const row = tables.instance.get(request.instanceId);
      if (row === undefined) return { found: false };
      if (row.intendedState !== request.intended) write(tables, () => (row.intendedState = request.intended));
      return { found: true };
    }
    case 'InstanceStartVmm':
      return { started: instanceStartVmm(tables, request, nowMs) };
    case 'InstanceClearFailed': {
      const row = tables.instance.get(request.instanceId);
      const ok = row !== undefined && row.stateGeneration === request.expectedGeneration && row.state === 'Failed';
      if (ok) write(tables, () => setRuntime(row, 'NoVmm', null));
      return { updated: ok };
    }
    case 'VmmUpdateRuntime':
      return vmmUpdateRuntime(tables, request.vmmId, request.runtime, null);
    case 'VmmMarkFailed':
      return vmmUpdateRuntime(tables, request.vmmId, { state: 'Failed', gen: request.gen }, SYNTHESIZED_FAILED_OVER);
    case 'InstanceCommitUpdate':
      return { committed: instanceCommitUpdate(tables, request, nowMs) };
    case 'InstanceAndVmmListBySledAgent': {
      const vmms: VmmRow[] = [];
      for (const v of tables.vmm.values()) if (v.timeDeleted === null && !NONEXISTENT_STATES.includes(v.state)) vmms.push(copyVmm(v));
      return { vmms };
    }
    case 'InstancesNeedingUpdate': {
      const instanceIds: string[] = [];
      for (const i of tables.instance.values()) {
        const vmm = i.activePropolisId === null ? undefined : tables.vmm.get(i.activePropolisId);
        if (vmm !== undefined && isTerminal(vmm.state)) instanceIds.push(i.id);
      }
      return { instanceIds };
    }
    default:
      return unreachable(request, 'database request');
  }
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
  if (row.activePropolisId !== null && vmm === undefined) panic(`instance ${instanceId} points at a missing VMM`);
  return { instance: { ...row }, activeVmm: vmm === undefined ? null : copyVmm(vmm) };
}

function instanceStartVmm(tables: Tables, r: { instanceId: string; expectedGeneration: number; vmmId: string; sledId: string }, nowMs: number): boolean {
  const row = tables.instance.get(r.instanceId);
  if (row === undefined) return false;
  // Idempotent, like a saga action: the same request again (a retry, a duplicate) succeeds.
  if (row.activePropolisId === r.vmmId) return true;
  if (row.stateGeneration !== r.expectedGeneration || row.activePropolisId !== null) return false;
  if (row.state !== 'NoVmm' && row.state !== 'Failed') return false;
  if (tables.vmm.has(r.vmmId)) panic(`VMM id ${r.vmmId} reused`);
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
  if (vmm === undefined) panic(`update commit for missing VMM ${r.vmmId}`);
  // The instance's generation guards the instance, not the VMM row: a sled-agent report at a
  // higher generation may have moved the VMM on since the snapshot. Then the snapshot is stale.
  if (!isTerminal(vmm.state)) return false;
  write(tables, () => {
    setRuntime(row, r.newState, null);
    vmm.timeDeleted = nowMs;
  });
  return true;
}

/** Every runtime change of an instance bumps its state generation by exactly one. */
function setRuntime(row: InstanceRow, state: InstanceRow['state'], activePropolisId: string | null): void {
  if ((state === 'Vmm') !== (activePropolisId !== null)) panic(`instance ${row.id}: state ${state} with active VMM ${activePropolisId}`);
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
