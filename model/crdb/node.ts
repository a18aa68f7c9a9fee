// CockroachDB as a node: every request is one transaction over the durable tables, answered in
// the step it arrives in. Crashing it loses nothing that was committed.
//
// Fault model: the database is never crashed or partitioned by the nemesis (the scenarios model
// a healthy CockroachDB cluster); what reaches it may be late or lost, and so may its answers,
// over each Nexus's connection (in order, never duplicated). A transaction whose answer is lost
// has still committed: its caller, timing out, cannot tell, which is why every query a saga
// re-runs is written to be idempotent (a re-run of the same node finds its own write).

import { panicUnless } from '../assert.ts';
import type { DbRequest } from './queries.ts';
import { execute } from './datastore/execute.ts';
import { emptyTables, type Tables } from './tables.ts';
import type { Env, NodeDef, NodeId, Process } from '../../ports/index.ts';

/** `populate` fills the tables before anything runs (records a scenario starts with: a disk and its volume). */
export function cockroachDb(id: NodeId, populate?: (tables: Tables) => void): NodeDef<Tables> {
  return {
    id,
    initDurable: () => {
      const tables = emptyTables();
      populate?.(tables);
      return tables;
    },
    boot(_env: Env, tables: Tables): Process {
      return {
        onCall(env: Env, _from: NodeId, request: unknown): unknown {
          const { writes, storageWrites } = tables;
          const reply = execute(tables, request as DbRequest, env.now());
          // Commit counters only rise, and every storage write is a write.
          panicUnless(tables.writes >= writes && tables.storageWrites - storageWrites <= tables.writes - writes, 'CockroachDB: a transaction moved the write counters backwards');
          return reply;
        },
      };
    },
  };
}
