// The "saga errors" fault shared by every world with a Nexus: steno's error injection armed on
// the given Nexus instances for an episode (model/nexus/saga/inject.ts). It reaches the undo
// paths that the other faults seldom do (an update saga unwinding after it took the lock, a
// start unwinding after it registered the VMM), as upstream's action_failure_can_unwind tests do.

import type { SagaInjectError } from '../model/nexus/saga/inject.ts';
import type { FaultOption } from '../sim/nemesis.ts';

export function sagaErrorFault(nexuses: readonly string[]): FaultOption {
  return {
    kind: 'signal',
    name: 'saga errors',
    nodes: nexuses,
    start: { type: 'SagaInjectError', armed: true } satisfies SagaInjectError,
    end: { type: 'SagaInjectError', armed: false } satisfies SagaInjectError,
  };
}
