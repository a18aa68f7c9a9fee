// The saga executor: runs a saga's nodes against the durable log (see saga.ts for the model).
// Log writes are retried until CockroachDB answers (bounded); an undo that cannot finish is
// retried (bounded); a saga whose log stops answering stalls and is resumed by recovery.

import { panic } from '../../assert.ts';
import { probe, sleep, type Flow } from '../../../ports/index.ts';
import type { SagaRow } from '../../crdb/tables.ts';
import type { DbRequest } from '../../crdb/queries.ts';
import type { NexusContext } from '../context.ts';
import { db } from '../db-client.ts';
import { injectedFailure } from './inject.ts';
import type { SagaDef, SagaOutcome, SagaRun } from './saga.ts';

const LOG_ATTEMPTS = 200;
const UNDO_ATTEMPTS = 100;
const BACKOFF_MS_MAX = 1_000;

export function backoffMs(attempt: number): number {
  return Math.min(BACKOFF_MS_MAX, 25 * 2 ** Math.min(attempt, 10));
}

/** Write to the saga log until it answers; false if it never did. */
export function* logDurably(nexus: NexusContext, request: DbRequest): Flow<boolean> {
  for (let attempt = 0; attempt < LOG_ATTEMPTS; attempt++) {
    const r = yield* db(nexus, request);
    if (r.ok) return true;
    yield* sleep(backoffMs(attempt));
  }
  return false;
}

/** Create a saga in the log and run it to the end. */
export function* executeSaga<P>(nexus: NexusContext, def: SagaDef<P>, sagaId: string, params: P): Flow<SagaOutcome> {
  nexus.localSagas.add(sagaId);
  const created = yield* logDurably(nexus, { type: 'SagaCreate', sagaId, name: def.name, owner: nexus.config.id, instanceId: def.instanceOf(params), params });
  if (!created) return { kind: 'Stalled' };
  return yield* runSaga(nexus, def, sagaId, params, null);
}

/** Run (or, with `resume`, continue) a saga whose log entry exists. */
export function* runSaga<P>(nexus: NexusContext, def: SagaDef<P>, sagaId: string, params: P, resume: SagaRow | null): Flow<SagaOutcome> {
  // Recovery resumes only sagas the log has as unfinished.
  if (!(resume === null || resume.state === 'Running' || resume.state === 'Unwinding')) panic(`saga ${sagaId} resumed while ${resume?.state}`);
  const outputs: Record<string, unknown> = { ...resume?.outputs };
  const run: SagaRun<P> = { nexus, id: sagaId, params, outputs };
  let error = resume?.error ?? '';
  if (resume === null || resume.state === 'Running') {
    let failedNode = false;
    for (const node of def.nodes) {
      if (node.name in outputs) continue;
      const result = injectedFailure(nexus, def.name, node.name) ?? (yield* node.action(run));
      if (result.ok) {
        outputs[node.name] = result.output;
        if (!(yield* logDurably(nexus, { type: 'SagaNodeDone', sagaId, node: node.name, output: result.output }))) return { kind: 'Stalled' };
        continue;
      }
      error = `${node.name}: ${result.error}`;
      nexus.env.log(`saga ${def.name} ${sagaId} unwinds: ${error}`);
      probe(nexus.env, `saga.${def.name}.unwinds-at.${node.name}`);
      if (!(yield* logDurably(nexus, { type: 'SagaUnwind', sagaId, error }))) return { kind: 'Stalled' };
      failedNode = true;
      break;
    }
    if (!failedNode) {
      if (!(def.nodes.every((n) => n.name in outputs))) panic(`saga ${sagaId}: done with a node that never ran`);
      if (!(yield* logDurably(nexus, { type: 'SagaFinish', sagaId, state: 'Done' }))) return { kind: 'Stalled' };
      probe(nexus.env, `saga.${def.name}.done`);
      return { kind: 'Done', outputs };
    }
  }
  const undone = new Set(resume?.undone);
  for (let i = def.nodes.length - 1; i >= 0; i--) {
    const node = def.nodes[i]!;
    if (!(node.name in outputs) || undone.has(node.name) || node.undo === undefined) continue;
    let finished = false;
    for (let attempt = 0; attempt < UNDO_ATTEMPTS && !finished; attempt++) {
      finished = yield* node.undo(run);
      if (!finished) yield* sleep(backoffMs(attempt));
    }
    if (!finished) return { kind: 'Stalled' };
    probe(nexus.env, `saga.${def.name}.undo.${node.name}`);
    if (!(yield* logDurably(nexus, { type: 'SagaNodeUndone', sagaId, node: node.name }))) return { kind: 'Stalled' };
  }
  if (!(yield* logDurably(nexus, { type: 'SagaFinish', sagaId, state: 'Failed' }))) return { kind: 'Stalled' };
  probe(nexus.env, `saga.${def.name}.unwound`);
  return { kind: 'Failed', error };
}
