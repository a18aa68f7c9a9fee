// Nexus's calls to CockroachDB. A timed-out transaction may or may not have committed; callers
// treat that as inconclusive and rely on every write being safe to repeat.

import { sleep, type CallResult, type Flow } from '../../ports/index.ts';
import type { DbReply, DbRequest, QueryName } from '../crdb/queries.ts';
import type { NexusContext } from './context.ts';

export function* db<K extends QueryName>(ctx: NexusContext, request: Extract<DbRequest, { type: K }>): Flow<CallResult<DbReply<K>>> {
  // Yields the call itself rather than delegating to `call`: one generator less per transaction.
  return (yield { kind: 'call', to: ctx.config.db, request, timeoutMs: ctx.config.dbTimeoutMs }) as CallResult<DbReply<K>>;
}

/** Attempts for a saga step's transaction before the step gives up (and its saga unwinds). */
const STEP_ATTEMPTS = 20;

/** A saga step's transaction: asked again until answered; undefined if it never was. */
export function* dbStep<K extends QueryName>(ctx: NexusContext, request: Extract<DbRequest, { type: K }>): Flow<DbReply<K> | undefined> {
  for (let attempt = 0; attempt < STEP_ATTEMPTS; attempt++) {
    const r = yield* db<K>(ctx, request);
    if (r.ok) return r.reply;
    yield* sleep(Math.min(1_000, 25 * 2 ** attempt));
  }
  return undefined;
}
