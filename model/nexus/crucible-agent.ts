// Nexus as the Crucible agents' client (nexus/src/app/crucible.rs, omicron b848b6df85). Before
// every attempt the dataset's physical disk is checked in the database: an expunged disk makes
// the agent Gone (an ensure fails, a delete succeeds). An agent that does not answer is asked
// again with backoff; upstream asks for ever (a saga node blocks until the agent returns or its
// disk is expunged), we give up after AGENT_ATTEMPTS (about a minute), so a saga fails instead of
// hanging past the run. A 4xx or 5xx ends the call at once. Creates and deletes are then polled
// until the record reaches its final state.

import { sleep, type Flow } from '../../ports/index.ts';
import type { AgentReply, AgentRequest, AgentState } from '../crucible/agent/api.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';

const AGENT_ATTEMPTS = 60;
const AGENT_TIMEOUT_MS = 500;
const POLL_MS = 100;

export type AgentOutcome = { readonly kind: 'Reply'; readonly reply: AgentReply } | { readonly kind: 'Gone' } | { readonly kind: 'Unreachable' };

function backoffMs(attempt: number): number {
  return Math.min(1_000, 50 * 2 ** Math.min(attempt, 5));
}

/** One agent call, retried while the agent cannot be reached and its disk is in service. */
export function* agentCall(ctx: NexusContext, dataset: string, request: AgentRequest): Flow<AgentOutcome> {
  for (let attempt = 0; attempt < AGENT_ATTEMPTS; attempt++) {
    const gone = yield* db<'DatasetGone'>(ctx, { type: 'DatasetGone', dataset });
    if (gone.ok && gone.reply.gone) return { kind: 'Gone' };
    if (gone.ok) {
      const r = yield { kind: 'call', to: dataset, request, timeoutMs: AGENT_TIMEOUT_MS };
      const result = r as { ok: true; reply: AgentReply } | { ok: false };
      if (result.ok && result.reply.status !== 503) return { kind: 'Reply', reply: result.reply };
    }
    yield* sleep(backoffMs(attempt));
  }
  return { kind: 'Unreachable' };
}

export type AgentResult = { readonly ok: true } | { readonly ok: false; readonly error: string };

function stateOf(reply: AgentReply): AgentState | null {
  return 'state' in reply ? reply.state : null;
}

/** ensure_region_in_dataset: create (a clone if `source`), then poll until Created. */
export function* ensureRegion(ctx: NexusContext, dataset: string, regionId: string, source: string | null): Flow<AgentResult> {
  for (let poll = 0; poll < AGENT_ATTEMPTS; poll++) {
    const r = yield* agentCall(ctx, dataset, { type: 'RegionCreate', regionId, source });
    if (r.kind === 'Gone') return { ok: false, error: `Gone: dataset ${dataset}` };
    if (r.kind === 'Unreachable') return { ok: false, error: `agent ${dataset} unreachable` };
    const state = stateOf(r.reply);
    if (state === 'Created') return { ok: true };
    if (state !== 'Requested') return { ok: false, error: state === null ? errorOf(r.reply) : `Failed to create region, unexpected state: ${state}` };
    yield* sleep(POLL_MS);
  }
  return { ok: false, error: `region ${regionId} still being created` };
}

function errorOf(reply: AgentReply): string {
  return 'message' in reply ? `${reply.status}: ${reply.message}` : `unexpected reply ${reply.status}`;
}

/** delete_crucible_region: gone or never existed is fine; then poll until Destroyed (a Failed one is deleted again). */
export function* deleteRegion(ctx: NexusContext, dataset: string, regionId: string): Flow<AgentResult> {
  const got = yield* agentCall(ctx, dataset, { type: 'RegionGet', regionId });
  if (got.kind === 'Gone' || (got.kind === 'Reply' && got.reply.status === 404)) return { ok: true };
  if (got.kind === 'Unreachable') return { ok: false, error: `agent ${dataset} unreachable` };
  for (let poll = 0; poll < AGENT_ATTEMPTS; poll++) {
    const del = yield* agentCall(ctx, dataset, { type: 'RegionDelete', regionId });
    if (del.kind === 'Gone') return { ok: true };
    if (del.kind === 'Unreachable') return { ok: false, error: `agent ${dataset} unreachable` };
    if (del.reply.status !== 204) return { ok: false, error: errorOf(del.reply) };
    const state = yield* pollRegion(ctx, dataset, regionId);
    if (state === 'Destroyed' || state === 'Gone') return { ok: true };
    if (state === 'Requested' || state === 'Created' || state === 'Unreachable') return { ok: false, error: `region is ${state} after successful deletion request!` };
  }
  return { ok: false, error: `region ${regionId} not deleted` };
}

/** Polls while Tombstoned; the state it settles in (Failed: the caller deletes again). */
function* pollRegion(ctx: NexusContext, dataset: string, regionId: string): Flow<AgentState | 'Gone' | 'Unreachable'> {
  for (let poll = 0; poll < AGENT_ATTEMPTS; poll++) {
    const r = yield* agentCall(ctx, dataset, { type: 'RegionGet', regionId });
    if (r.kind !== 'Reply') return r.kind;
    const state = stateOf(r.reply);
    if (state === null) return 'Unreachable';
    if (state !== 'Tombstoned') return state;
    yield* sleep(POLL_MS);
  }
  return 'Unreachable';
}

/** ensure_crucible_running_snapshot: run the read-only downstairs, poll until Created. */
export function* ensureRunningSnapshot(ctx: NexusContext, dataset: string, regionId: string, snapshotId: string): Flow<AgentResult> {
  for (let poll = 0; poll < AGENT_ATTEMPTS; poll++) {
    const r = yield* agentCall(ctx, dataset, { type: 'RunningSnapshotCreate', regionId, snapshotId });
    if (r.kind !== 'Reply') return { ok: false, error: r.kind === 'Gone' ? `Gone: dataset ${dataset}` : `agent ${dataset} unreachable` };
    const state = stateOf(r.reply);
    if (state === 'Created') return { ok: true };
    if (state !== 'Requested') return { ok: false, error: state === null ? errorOf(r.reply) : `Failed to create running snapshot, unexpected state: ${state}` };
    yield* sleep(POLL_MS);
  }
  return { ok: false, error: 'running snapshot still being created' };
}

/** A one-shot agent call whose 204 is success and Gone counts as done (snapshot create excepted). */
export function* agentAct(ctx: NexusContext, dataset: string, request: AgentRequest, goneOk: boolean): Flow<AgentResult> {
  const r = yield* agentCall(ctx, dataset, request);
  if (r.kind === 'Gone') return goneOk ? { ok: true } : { ok: false, error: `Gone: dataset ${dataset}` };
  if (r.kind === 'Unreachable') return { ok: false, error: `agent ${dataset} unreachable` };
  return r.reply.status === 204 ? { ok: true } : { ok: false, error: errorOf(r.reply) };
}

/** delete_crucible_running_snapshot then delete_crucible_snapshot: the read-only downstairs stops, then the ZFS snapshot goes. */
export function* deleteRegionSnapshot(ctx: NexusContext, dataset: string, regionId: string, snapshotId: string): Flow<AgentResult> {
  const stop = yield* agentAct(ctx, dataset, { type: 'RunningSnapshotDelete', regionId, snapshotId }, true);
  if (!stop.ok) return stop.error.startsWith('404') ? { ok: true } : stop;
  for (let poll = 0; poll < AGENT_ATTEMPTS; poll++) {
    const r = yield* agentCall(ctx, dataset, { type: 'SnapshotsGet', regionId });
    if (r.kind === 'Gone') return { ok: true };
    if (r.kind === 'Unreachable') return { ok: false, error: `agent ${dataset} unreachable` };
    if (!('running' in r.reply)) return r.reply.status === 404 ? { ok: true } : { ok: false, error: errorOf(r.reply) };
    const state = r.reply.running[snapshotId];
    if (state === undefined || state === 'Destroyed') return yield* agentAct(ctx, dataset, { type: 'SnapshotDelete', regionId, snapshotId }, true);
    if (state !== 'Tombstoned') return { ok: false, error: `running_snapshot unexpected state ${state}` };
    yield* sleep(POLL_MS);
  }
  return { ok: false, error: 'running snapshot not deleted' };
}
