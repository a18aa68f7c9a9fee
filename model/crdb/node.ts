// CockroachDB as a node: every request is one transaction over the durable tables, answered in
// the step it arrives in. Crashing it loses nothing that was committed.

import type { DbRequest } from './queries.ts';
import { execute } from './datastore/execute.ts';
import { emptyTables, type Tables } from './tables.ts';
import type { Env, NodeDef, NodeId, Process } from '../ports.ts';

export function cockroachDb(id: NodeId): NodeDef<Tables> {
  return {
    id,
    initDurable: emptyTables,
    boot(_env: Env, tables: Tables): Process {
      return {
        onCall(env: Env, _from: NodeId, request: unknown): unknown {
          return execute(tables, request as DbRequest, env.now());
        },
      };
    },
  };
}
