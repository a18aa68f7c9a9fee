// Saga error injection: steno's SecClient::saga_inject_error, which upstream's saga tests use
// to prove that a saga failing at any node unwinds cleanly (test_helpers::
// action_failure_can_unwind). Here it is a fault: the nemesis arms it on a Nexus for an episode
// (a SagaInjectError message from outside the network) and disarms it at the episode's end.
// While armed, a node about to run fails instead, with a drawn chance, without running its
// action (as steno does: the failed node is not undone). Undo actions are never failed. The
// arming is volatile: a restarted Nexus starts disarmed.
//
// Real sagas fail this way when a dependency answers with an error (Dendrite for an update
// saga's network config, a sled-agent refusing a VMM, an allocation that finds no room); upstream
// holds every saga to unwinding correctly from any node, so a violation after an injected
// error is a finding, not an artefact.

import { panicUnless } from '../../assert.ts';
import { flip, probe } from '../../../ports/index.ts';
import type { NexusContext } from '../context.ts';
import { failed, type NodeResult } from './saga.ts';

export interface SagaInjectError {
  readonly type: 'SagaInjectError';
  readonly armed: boolean;
}

/** Chance that a node about to run fails while injection is armed. */
const INJECT_PER_MILLE = 200;

export function isSagaInjectError(message: unknown): message is SagaInjectError {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'SagaInjectError';
}

/** Arm or disarm injection on this Nexus. */
export function setSagaInjection(nexus: NexusContext, message: SagaInjectError): void {
  panicUnless(typeof message.armed === 'boolean', 'SagaInjectError without armed');
  nexus.sagaErrors.armed = message.armed;
}

/** The failure injected into `node` of saga `sagaName`, or null to run the node's action. */
export function injectedFailure(nexus: NexusContext, sagaName: string, node: string): NodeResult | null {
  if (!nexus.sagaErrors.armed || !flip(nexus.env, 'nexus.sagaInjectError', INJECT_PER_MILLE)) return null;
  probe(nexus.env, `saga.${sagaName}.injected-error`);
  nexus.env.log(`saga ${sagaName}: error injected at ${node}`);
  return failed('injected error');
}
