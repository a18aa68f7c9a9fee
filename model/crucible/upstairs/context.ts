// The upstairs' working state, shared by its parts (node.ts: connections, negotiation,
// activation, Disabled; reconcile.ts; io.ts).

import type { Bugs, Env, NodeId } from '../../../ports/index.ts';
import type { BlockData, ExtentVersionsBody, RegionDefinition, UpstairsMessage } from '../protocol.ts';
import type { LiveRepair } from './live-repair.ts';
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
  /** The newest job it did while Active (0 if none): the client with the newer one saw more of the IO. */
  newestDoneActive: number;
  /** The region this client's downstairs reported, once known. */
  regionId: string | null;
  versions: ExtentVersionsBody | null;
}

/** Live repair's jobs (live_repair.rs), in the IO stream with the guest's. */
export type RepairJobKind = 'ExtentFlushClose' | 'ExtentLiveRepair' | 'ExtentLiveNoOp' | 'ExtentLiveReopen';
export type JobKind = 'Write' | 'Read' | 'Flush' | RepairJobKind;

/** An extent as a client closed it for live repair (live_repair.rs ExtentInfo). */
export interface ExtentInfo {
  readonly gen: number;
  readonly flush: number;
  readonly dirty: boolean;
}

export interface Job {
  readonly id: number;
  readonly kind: JobKind;
  /** Who hears the outcome; null for the upstairs' own flushes (deactivation, live repair's last). */
  readonly replyTo: { readonly node: NodeId; readonly requestId: string } | null;
  /** The extent it touches; null for a flush, which touches them all. */
  readonly extent: number | null;
  /** What a client is sent: live repair's jobs differ by the client's part in the repair. */
  readonly message: (client: number) => UpstairsMessage;
  done: Set<number>;
  skipped: Set<number>;
  /** Clients that answered with an error (a live repair that could not reach its source). */
  errors: Set<number>;
  result: BlockData | null;
  /** ExtentFlushClose: each client's extent as it closed it (null for any other job). */
  readonly closed: Map<number, ExtentInfo> | null;
  /**
   * Not sent yet, to anyone: it must follow a job that is not sent yet either (the reserved
   * reopen of the extent under repair). Upstream sends it and the downstairs holds it on its
   * dependencies; ours executes in arrival order, so the upstairs holds it instead.
   */
  held: boolean;
  acked: boolean;
  /** Once acked: whether enough clients did it (DownstairsIO::result). */
  ok: boolean;
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
  readonly readOnly: boolean;
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
  /** The live repair under way (live-repair.ts), null when none. */
  repair: LiveRepair | null;
  /** Activation requests answered, by id: the oracle checks there is exactly one answer each. */
  readonly answered: Map<string, number>;
  /** Every state a client went through, for the trace. */
  readonly log: (text: string) => void;
}
