// Nexus's calls to CockroachDB. A timed-out transaction may or may not have committed; callers
// treat that as inconclusive and rely on the conditional writes being safe to repeat.

import type { CallResult, Flow } from '../ports.ts';
import type { DbReply, DbRequest, QueryName } from '../crdb/queries.ts';
import type { NexusContext } from './context.ts';

export function* db<K extends QueryName>(ctx: NexusContext, request: Extract<DbRequest, { type: K }>): Flow<CallResult<DbReply<K>>> {
  // Yields the call itself rather than delegating to `call`: one generator less per transaction.
  return (yield { kind: 'call', to: ctx.config.db, request, timeoutMs: ctx.config.dbTimeoutMs }) as CallResult<DbReply<K>>;
}
