// A database for model tests: real tables, real transactions, driven directly.

import { execute } from '../../model/crdb/datastore/execute.ts';
import type { DbRequest } from '../../model/crdb/queries.ts';
import { emptyTables, type Tables } from '../../model/crdb/tables.ts';
import type { VmmState } from '../../model/common/vmm-state.ts';

export function run(tables: Tables, request: DbRequest, nowMs = 10): any {
  return execute(tables, request, nowMs);
}

/** An instance `i` with a VMM `v` active in the given state and generation. */
export function withVmm(state: VmmState, gen: number): Tables {
  const tables = emptyTables();
  run(tables, { type: 'InstanceCreate', instanceId: 'i', ncpus: 2, memoryMib: 1024, autoRestartPolicy: null });
  run(tables, { type: 'VmmInsert', vmmId: 'v', instanceId: 'i', sledId: 's' });
  run(tables, { type: 'InstanceMoveToStarting', instanceId: 'i', vmmId: 'v', expectedGeneration: 1, autoRestart: false, stale: null });
  const vmm = tables.vmm.get('v')!;
  vmm.state = state;
  vmm.gen = gen;
  return tables;
}
