// Saga recovery: when a Nexus boots, it resumes every saga it owned that had not finished.
// Subsagas (instance-update, run inside start-instance-update) are resumed by their parent, and
// sagas this process started while recovery was still listing are already running.

import { probe, sleep, type Flow } from '../../../ports/index.ts';
import type { NexusContext } from '../context.ts';
import { db } from '../db-client.ts';
import { backoffMs, runSaga } from './executor.ts';
import { SAGAS, SUBSAGAS } from './registry.ts';

const LIST_ATTEMPTS = 200;

export function* recoverSagas(nexus: NexusContext): Flow<void> {
  for (let attempt = 0; attempt < LIST_ATTEMPTS; attempt++) {
    const r = yield* db<'SagaListUnfinished'>(nexus, { type: 'SagaListUnfinished', owner: nexus.config.id });
    if (r.ok) {
      for (const row of r.reply.sagas) {
        const def = SAGAS.get(row.name);
        if (def === undefined || SUBSAGAS.has(row.name) || nexus.localSagas.has(row.id)) continue;
        nexus.env.log(`recovering saga ${row.name} ${row.id} (${row.state})`);
        probe(nexus.env, `saga.${row.name}.recovered-${row.state === 'Running' ? 'running' : 'unwinding'}`);
        nexus.env.spawn(`recover ${row.name}`, runSaga(nexus, def, row.id, row.params as never, row) as Flow<unknown>);
      }
      return;
    }
    yield* sleep(backoffMs(attempt));
  }
}
