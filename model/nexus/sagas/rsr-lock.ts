// The state-plus-saga-id lock of region_snapshot_replacement.rs as saga nodes: take the request
// from `from` to `to` under the saga's id (the undo gives it back), or move it on, clearing the id.
// A request in another state, or held by another saga, fails the node.

import type { ReplacementDoneIds } from '../../crdb/datastore/region-snapshot-replacement.ts';
import type { RsrState } from '../../crdb/tables.ts';
import { db, dbStep } from '../db-client.ts';
import { failed, ok, type SagaNode, type SagaRun } from '../saga/saga.ts';

export function rsrSetSagaIdNode<P extends { readonly requestId: string }>(from: RsrState, to: RsrState): SagaNode<P> {
  return {
    name: 'set_saga_id',
    *action(run) {
      const r = yield* dbStep<'RsrTransition'>(run.nexus, { type: 'RsrTransition', requestId: run.params.requestId, from, to, sagaId: run.id, mode: 'take' });
      return r?.ok === true ? ok() : failed(`Conflict: the request is not ${from} with no saga on it`);
    },
    *undo(run) {
      const r = yield* db<'RsrTransition'>(run.nexus, { type: 'RsrTransition', requestId: run.params.requestId, from: to, to: from, sagaId: run.id, mode: 'clear' });
      return r.ok && r.reply.ok;
    },
  };
}

export function rsrUpdateRequestNode<P extends { readonly requestId: string }>(from: RsrState, to: RsrState, ids?: (run: SagaRun<P>) => ReplacementDoneIds): SagaNode<P> {
  return {
    name: 'update_request_record',
    *action(run) {
      const r = yield* dbStep<'RsrTransition'>(run.nexus, { type: 'RsrTransition', requestId: run.params.requestId, from, to, sagaId: run.id, mode: 'clear', ...(ids === undefined ? {} : { ids: ids(run) }) });
      return r?.ok === true ? ok() : failed('Conflict: the request moved under the saga');
    },
  };
}
