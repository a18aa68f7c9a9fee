// The first node of each region replacement saga (start, drive, finish): take the request from
// `from` to `to` under the saga's id, the state-plus-saga-id lock of region_replacement.rs; the
// undo gives it back. A request in another state, or held by another saga, fails the node.

import type { RegionReplacementState } from '../../crdb/tables.ts';
import { db, dbStep } from '../db-client.ts';
import { failed, ok, type SagaNode } from '../saga/saga.ts';

export function setSagaIdNode<P extends { readonly replacementId: string }>(from: RegionReplacementState, to: RegionReplacementState): SagaNode<P> {
  return {
    name: 'set_saga_id',
    *action(run) {
      const r = yield* dbStep<'RegionReplacementTransition'>(run.nexus, { type: 'RegionReplacementTransition', replacementId: run.params.replacementId, from, to, sagaId: run.id, mode: 'take' });
      return r?.ok === true ? ok() : failed(`Conflict: the request is not ${from} with no saga on it`);
    },
    *undo(run) {
      const r = yield* db<'RegionReplacementTransition'>(run.nexus, { type: 'RegionReplacementTransition', replacementId: run.params.replacementId, from: to, to: from, sagaId: run.id, mode: 'clear' });
      return r.ok && r.reply.ok;
    },
  };
}
