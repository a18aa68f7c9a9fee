// The saga log: what a saga executor writes so that a saga survives its Nexus crashing. A node's
// output is recorded when the node finishes; on recovery, finished nodes are skipped with their
// recorded outputs and the node in progress runs again, so every action must be idempotent.
// Each write is idempotent too: the executor repeats any whose answer was lost.

import { panic } from '../../assert.ts';
import type { SagaRow } from '../tables.ts';
import { write, type Tables } from '../tables.ts';

export function sagaCreate(tables: Tables, r: { sagaId: string; name: string; owner: string; instanceId: string; params: unknown }): { created: boolean } {
  if (tables.saga.has(r.sagaId)) return { created: false };
  write(tables, () => {
    tables.saga.set(r.sagaId, { id: r.sagaId, name: r.name, owner: r.owner, instanceId: r.instanceId, params: r.params, state: 'Running', outputs: {}, undone: [], error: null });
    tables.sagasInFlight.set(r.instanceId, (tables.sagasInFlight.get(r.instanceId) ?? 0) + 1);
  });
  if (!(tables.saga.get(r.sagaId)?.state === 'Running' && (tables.sagasInFlight.get(r.instanceId) ?? 0) >= 1)) panic(`saga ${r.sagaId}: created, but not Running and in flight`);
  return { created: true };
}

function saga(tables: Tables, sagaId: string): SagaRow | null {
  return tables.saga.get(sagaId) ?? null;
}

export function sagaNodeDone(tables: Tables, sagaId: string, node: string, output: unknown): { ok: boolean } {
  const row = saga(tables, sagaId);
  if (row === null || row.state !== 'Running') return { ok: row !== null && node in row.outputs };
  write(tables, () => (row.outputs[node] = output));
  if (!(node in row.outputs)) panic(`saga ${sagaId}: the output of ${node} not recorded`);
  return { ok: true };
}

export function sagaUnwind(tables: Tables, sagaId: string, error: string): { ok: boolean } {
  const row = saga(tables, sagaId);
  if (row === null) return { ok: false };
  if (row.state === 'Running') {
    write(tables, () => {
      row.state = 'Unwinding';
      row.error = error;
    });
    if (row.error !== error) panic(`saga ${sagaId}: unwinding without its error`);
  }
  return { ok: row.state === 'Unwinding' || row.state === 'Failed' };
}

export function sagaNodeUndone(tables: Tables, sagaId: string, node: string): { ok: boolean } {
  const row = saga(tables, sagaId);
  if (row === null) return { ok: false };
  if (!row.undone.includes(node)) {
    // Undone while unwinding, or, a Done subsaga, when its parent unwinds; never while running forward.
    if (row.state === 'Running') panic(`saga ${sagaId}: undo of ${node} recorded while it runs forward`);
    write(tables, () => row.undone.push(node));
  }
  if (row.undone.indexOf(node) !== row.undone.lastIndexOf(node)) panic(`saga ${sagaId}: the undo of ${node} recorded twice`);
  return { ok: true };
}

export function sagaFinish(tables: Tables, sagaId: string, state: 'Done' | 'Failed'): { ok: boolean } {
  const row = saga(tables, sagaId);
  if (row === null) return { ok: false };
  if (row.state === 'Running' || row.state === 'Unwinding') {
    // A saga that ran to its end is Done; one that unwound is Failed; each counted in flight once.
    if (!(state === (row.state === 'Running' ? 'Done' : 'Failed'))) panic(`saga ${sagaId}: ${row.state} cannot finish ${state}`);
    if (!((tables.sagasInFlight.get(row.instanceId) ?? 0) >= 1)) panic(`saga ${sagaId}: finishing, but not counted in flight for ${row.instanceId}`);
    write(tables, () => {
      row.state = state;
      const left = (tables.sagasInFlight.get(row.instanceId) ?? 1) - 1;
      if (left === 0) tables.sagasInFlight.delete(row.instanceId);
      else tables.sagasInFlight.set(row.instanceId, left);
    });
    if (tables.saga.get(sagaId)?.state !== state) panic(`saga ${sagaId}: not ${state} after finishing`);
  }
  return { ok: true };
}

export function sagaListUnfinished(tables: Tables, owner: string): SagaRow[] {
  const rows: SagaRow[] = [];
  for (const row of tables.saga.values()) {
    if (row.owner === owner && (row.state === 'Running' || row.state === 'Unwinding')) rows.push(copy(row));
  }
  return rows;
}

export function sagaFetch(tables: Tables, sagaId: string): SagaRow | null {
  const row = tables.saga.get(sagaId);
  return row === undefined ? null : copy(row);
}

function copy(row: SagaRow): SagaRow {
  return { ...row, outputs: { ...row.outputs }, undone: [...row.undone] };
}
