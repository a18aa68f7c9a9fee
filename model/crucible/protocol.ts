// The Crucible wire protocol between an upstairs and a downstairs (protocol/src/lib.rs), the
// messages stairwell needs, named as there. Every message travels on a connection: `conn` names
// it (the upstairs opens a new one at every (re)connect) and `seq` numbers its messages, so a
// receiver that sees a gap knows the connection broke, as TCP would tell it.

export const CRUCIBLE_VERSION = 12;

export interface ExtentVersionsBody {
  readonly gen: readonly number[];
  readonly flush: readonly number[];
  readonly dirty: readonly boolean[];
}

export interface RegionDefinition {
  readonly regionId: string;
  readonly extentCount: number;
  readonly blocksPerExtent: number;
}

/** What a block holds: the write that put it there, and the upstairs generation of that write. */
export interface BlockData {
  readonly writeId: string;
  readonly gen: number;
}

export type UpstairsMessage =
  | { readonly type: 'HereIAm'; readonly version: number; readonly upstairsId: string; readonly sessionId: string; readonly gen: number; readonly readOnly: boolean }
  | { readonly type: 'PromoteToActive'; readonly upstairsId: string; readonly sessionId: string; readonly gen: number }
  | { readonly type: 'RegionInfoPlease' }
  | { readonly type: 'ExtentVersionsPlease' }
  | { readonly type: 'LastFlush'; readonly flushNumber: number }
  | { readonly type: 'Write'; readonly jobId: number; readonly extent: number; readonly block: number; readonly data: BlockData }
  | { readonly type: 'Read'; readonly jobId: number; readonly extent: number; readonly block: number }
  /** extentLimit: during a live repair only extents up to it are flushed (upstream sends it to all three). */
  | { readonly type: 'Flush'; readonly jobId: number; readonly flushNumber: number; readonly gen: number; readonly extentLimit: number | null }
  | { readonly type: 'ExtentFlush'; readonly repairId: number; readonly extent: number; readonly flushNumber: number; readonly gen: number }
  | { readonly type: 'ExtentRepair'; readonly repairId: number; readonly extent: number; readonly source: string }
  /** Reconciliation closes an extent on every client before its repair and reopens it after. */
  | { readonly type: 'ExtentClose'; readonly repairId: number; readonly extent: number }
  | { readonly type: 'ExtentReopen'; readonly repairId: number; readonly extent: number }
  /** Live repair (live_repair.rs), one extent at a time, as jobs in the IO stream. */
  | { readonly type: 'ExtentLiveFlushClose'; readonly jobId: number; readonly extent: number; readonly flushNumber: number; readonly gen: number }
  | { readonly type: 'ExtentLiveClose'; readonly jobId: number; readonly extent: number }
  | { readonly type: 'ExtentLiveRepair'; readonly jobId: number; readonly extent: number; readonly source: string }
  | { readonly type: 'ExtentLiveNoOp'; readonly jobId: number }
  | { readonly type: 'ExtentLiveReopen'; readonly jobId: number; readonly extent: number }
  | { readonly type: 'Ruok' };

export type DownstairsMessage =
  | { readonly type: 'YesItsMe'; readonly version: number }
  | { readonly type: 'VersionMismatch'; readonly version: number }
  | { readonly type: 'ReadOnlyMismatch' }
  | { readonly type: 'UuidMismatch'; readonly expected: string }
  | { readonly type: 'YouAreNowActive'; readonly upstairsId: string; readonly sessionId: string; readonly gen: number }
  | { readonly type: 'YouAreNoLongerActive'; readonly newUpstairsId: string; readonly newSessionId: string; readonly newGen: number }
  | { readonly type: 'RegionInfo'; readonly region: RegionDefinition }
  | ({ readonly type: 'ExtentVersions' } & ExtentVersionsBody)
  | { readonly type: 'WriteAck'; readonly jobId: number }
  | { readonly type: 'ReadResponse'; readonly jobId: number; readonly data: BlockData | null }
  | { readonly type: 'FlushAck'; readonly jobId: number }
  | { readonly type: 'RepairAckId'; readonly repairId: number }
  | { readonly type: 'ExtentError'; readonly repairId: number; readonly error: string }
  /** What the closed extent held (ExtentLiveClose and ExtentLiveFlushClose). */
  | { readonly type: 'ExtentLiveCloseAck'; readonly jobId: number; readonly gen: number; readonly flush: number; readonly dirty: boolean }
  | { readonly type: 'ExtentLiveRepairAckId'; readonly jobId: number; readonly error: string | null }
  /** ExtentLiveNoOp and ExtentLiveReopen. */
  | { readonly type: 'ExtentLiveAckId'; readonly jobId: number }
  | { readonly type: 'Imok' }
  /** Not a protocol message: the downstairs closed the connection (what TCP would report). */
  | { readonly type: 'Closed'; readonly reason: string };

/** A message on a connection. */
export interface Framed<M> {
  readonly type: 'Frame';
  readonly conn: string;
  readonly seq: number;
  readonly message: M;
}

/** The repair server: a peer downstairs fetches one extent (the HTTP repair endpoint). */
export type RepairRequest = { readonly type: 'ExtentFetch'; readonly extent: number };
export type RepairReply = { readonly type: 'ExtentData'; readonly gen: number; readonly flush: number; readonly blocks: readonly (BlockData | null)[] } | { readonly type: 'ExtentUnavailable' };
