// The Crucible agent's API (crucible agent/src/server.rs, crucible 6d037cb6) as Nexus calls it: one
// agent per zpool (a Crucible dataset), holding regions, the ZFS snapshots of regions, and the
// read-only downstairs ("running snapshots") that serve them. Status codes as upstream.

export type AgentState = 'Requested' | 'Created' | 'Tombstoned' | 'Destroyed' | 'Failed';

export interface AgentRegion {
  readonly id: string;
  state: AgentState;
  /** A clone: the read-only downstairs it copies from (region_create's `source`). */
  readonly source: string | null;
  /** ZFS snapshots of the region, by snapshot id. */
  readonly snapshots: Set<string>;
}

export type AgentRequest =
  | { readonly type: 'RegionCreate'; readonly regionId: string; readonly source: string | null }
  | { readonly type: 'RegionGet'; readonly regionId: string }
  | { readonly type: 'RegionDelete'; readonly regionId: string }
  /** The snapshot a flush with snapshot details makes on the downstairs (upstream: sent through Propolis or the Pantry). */
  | { readonly type: 'SnapshotCreate'; readonly regionId: string; readonly snapshotId: string }
  | { readonly type: 'SnapshotDelete'; readonly regionId: string; readonly snapshotId: string }
  | { readonly type: 'SnapshotsGet'; readonly regionId: string }
  | { readonly type: 'RunningSnapshotCreate'; readonly regionId: string; readonly snapshotId: string }
  | { readonly type: 'RunningSnapshotDelete'; readonly regionId: string; readonly snapshotId: string }
  /** A clone reading from a read-only downstairs here (the repair port's extent fetch). */
  | { readonly type: 'CloneRead'; readonly address: string };

export type AgentReply =
  | { readonly status: 200; readonly state: AgentState }
  | { readonly status: 200; readonly snapshots: readonly string[]; readonly running: Readonly<Record<string, AgentState>> }
  | { readonly status: 204 }
  | { readonly status: 400 | 404 | 500 | 503; readonly message: string };
