// The upstairs' working state, shared by its parts (node.ts: connections, negotiation,
// activation, Disabled; reconcile.ts; io.ts).

import type { Bugs, Env, NodeId } from '../../ports.ts';
import type { BlockData, ExtentVersionsBody, RegionDefinition, UpstairsMessage } from '../protocol.ts';
import type { DsState, UpstairsState } from './states.ts';

export interface DownstairsClient {
  readonly index: number;
  address: NodeId;
  state: DsState;
  /** The connection in use, null between connections. */
  conn: string | null;
  outSeq: number;
  inSeq: number;
  lastHeardMs: number;
  /** The region this client's downstairs reported, once known. */
  regionId: string | null;
  versions: ExtentVersionsBody | null;
}

export interface Job {
  readonly id: number;
  readonly kind: 'Write' | 'Read' | 'Flush';
  /** Who hears the outcome; null for the upstairs' own final flush on deactivation. */
  readonly replyTo: { readonly node: NodeId; readonly requestId: string } | null;
  readonly message: UpstairsMessage;
  done: Set<number>;
  skipped: Set<number>;
  result: BlockData | null;
  acked: boolean;
}

export interface Reconciliation {
  /** Steps left, each sent to its clients and finished on all of them before the next. */
  readonly steps: { readonly targets: readonly number[]; readonly message: (repairId: number) => UpstairsMessage }[];
  current: { readonly repairId: number; readonly waiting: Set<number> } | null;
  readonly maxFlush: number;
}

export interface Upstairs {
  readonly env: Env;
  readonly bugs: Bugs;
  readonly upstairsId: string;
  readonly sessionId: string;
  readonly region: RegionDefinition;
  state: UpstairsState;
  gen: number;
  readonly clients: DownstairsClient[];
  nextFlush: number;
  nextJobId: number;
  readonly jobs: Map<number, Job>;
  /** Guest requests waiting for the upstairs to become Active (or a live repair to end). */
  readonly queued: { readonly node: NodeId; readonly request: unknown }[];
  reconciliation: Reconciliation | null;
  /** Activation requests answered, by id: the oracle checks there is exactly one answer each. */
  readonly answered: Map<string, number>;
  /** Every state a client went through, for the trace. */
  readonly log: (text: string) => void;
}
