// Sagas (Steno's model, as Nexus uses it): a saga is a list of nodes, each an action with an
// optional undo. The executor runs the actions in order and records each one's output in the
// durable saga log; if an action fails, it runs the undos of the finished nodes in reverse
// order. If Nexus crashes, recovery resumes each unfinished saga from the log: finished nodes
// are skipped with their recorded outputs, and the node in progress runs again, so every action
// and every undo must be idempotent. The failed node itself is not undone.

import type { Flow } from '../../../ports/index.ts';
import type { NexusContext } from '../context.ts';

export type NodeResult = { readonly ok: true; readonly output: unknown } | { readonly ok: false; readonly error: string };

export interface SagaRun<P> {
  readonly nexus: NexusContext;
  readonly id: string;
  readonly params: P;
  /** Outputs of the nodes finished so far, by node name. */
  readonly outputs: Readonly<Record<string, unknown>>;
}

export interface SagaNode<P> {
  readonly name: string;
  action(run: SagaRun<P>): Flow<NodeResult>;
  /** Returns false if it could not finish this time (it is tried again). */
  undo?(run: SagaRun<P>): Flow<boolean>;
}

export interface SagaDef<P> {
  readonly name: string;
  instanceOf(params: P): string;
  readonly nodes: readonly SagaNode<P>[];
}

export type SagaOutcome =
  | { readonly kind: 'Done'; readonly outputs: Readonly<Record<string, unknown>> }
  | { readonly kind: 'Failed'; readonly error: string }
  /** The log stopped answering; the saga stays unfinished until this Nexus recovers it. */
  | { readonly kind: 'Stalled' };

export function ok(output: unknown = null): NodeResult {
  return { ok: true, output };
}

export function failed(error: string): NodeResult {
  return { ok: false, error };
}
