// Nexus's calls to CockroachDB. A timed-out transaction may or may not have committed; callers
// treat that as inconclusive and rely on the conditional writes being safe to repeat.

import { call, type CallResult, type Flow } from '../ports.ts';
import type { DbReply, DbRequest, QueryName } from '../crdb/queries.ts';
import type { NexusContext } from './context.ts';

export function* db<K extends QueryName>(ctx: NexusContext, request: Extract<DbRequest, { type: K }>): Flow<CallResult<DbReply<K>>> {
  return yield* call<DbReply<K>>(ctx.config.db, request, ctx.config.dbTimeoutMs);
}
