// propolis-server's API as its callers use it (bin/propolis-server/src/lib/server.rs, propolis
// 372a5744), and the names of what it publishes (propolis-api-types InstanceState). HTTP outcomes
// are kept as status codes: 200/204 ok; 400 Crucible refused the VCR; 403 the queue denied the
// request; 404 no such Crucible backend; 409 another VM already ensured here; 410 the VM was
// destroyed with the request still queued; 424 no active VM.

import type { Vcr } from '../crucible/vcr.ts';
import type { NodeId } from '../../ports/index.ts';
import type { RequestDeniedReason } from './request-queue.ts';

/** What a VCR replacement answers with 200 (crucible ReplaceResult; Missing is an error at the Volume). */
export type VcrReplaceResult = 'Started' | 'StartedAlready' | 'CompletedAlready' | 'VcrMatches';

/** InstanceState as Propolis publishes it (Repairing exists upstream but is never published). */
export type PropolisState = 'Creating' | 'Starting' | 'Running' | 'Stopping' | 'Stopped' | 'Rebooting' | 'Migrating' | 'Failed' | 'Destroyed';

/** A migration out as the source publishes it: `Error` when it failed. */
export type PropolisMigrationState = 'Sync' | 'Finish' | 'Error';

/** InstanceStateMonitorResponse: each publication bumps `gen` by one, changed or not. */
export interface PublishedState {
  readonly gen: number;
  readonly state: PropolisState;
  readonly migrationOut: { readonly migrationId: string; readonly state: PropolisMigrationState } | null;
}

/** A Crucible disk of the instance spec: its backend id (the disk id) and its VCR. */
export interface DiskSpec {
  readonly backendId: string;
  readonly vcr: Vcr;
}

export type PropolisRequest =
  /** instance_ensure: create the VM (not started) with these disks; with `migrateIn`, as the target of that migration (it starts on its own). */
  | { readonly type: 'InstanceEnsure'; readonly vmmId: string; readonly disks: readonly DiskSpec[]; readonly migrateIn?: { readonly migrationId: string } }
  /** PUT /instance/state. The sled-agent names the VMM; a bare client (no id) means whichever VM this server runs, as upstream's path does. */
  | { readonly type: 'InstanceStatePut'; readonly vmmId?: string; readonly requested: 'Run' | 'Stop' | 'Reboot' }
  /** The migrate-out websocket: become a migration source towards `target`. */
  | { readonly type: 'InstanceMigrateStart'; readonly vmmId?: string; readonly migrationId: string; readonly target: NodeId }
  /** PUT /instance/disk/{id}/vcr (instance_issue_crucible_vcr_request). */
  | { readonly type: 'InstanceVcrReplace'; readonly vmmId: string; readonly backendId: string; readonly vcr: Vcr }
  /** GET /instance/disk/{id}/status (disk_volume_status): each upstairs of the backend, its targets and health. */
  | { readonly type: 'InstanceDiskVolumeStatus'; readonly vmmId: string; readonly backendId: string }
  /** GET /instance/state-monitor. */
  | { readonly type: 'InstanceStateMonitor'; readonly vmmId: string }
  /** The sled-agent removes the Propolis zone: the process ends, whatever the VM was doing. */
  | { readonly type: 'InstanceRemove'; readonly vmmId: string }
  /** Source to target: the migration handshake (version negotiation). */
  | { readonly type: 'MigrateHandshake'; readonly migrationId: string };

export type PropolisReply =
  | { readonly type: 'Ok'; readonly status: 200 | 204 }
  | { readonly type: 'State'; readonly state: PublishedState }
  | { readonly type: 'VcrReplaced'; readonly status: 200; readonly result: VcrReplaceResult }
  | { readonly type: 'VolumeStatus'; readonly upstairs: readonly UpstairsStatus[] }
  | { readonly type: 'Error'; readonly status: 400 | 403 | 404 | 409 | 410 | 424 | 500; readonly message: string; readonly reason?: RequestDeniedReason }
  /** The handshake: this Propolis is no migration target (it expects none). */
  | { readonly type: 'HandshakeRefused' };

/**
 * One upstairs of a volume as disk_volume_status reports it (crucible VolumeInfo::Upstairs), reduced
 * to what Nexus reads: `healthy` is omicron's propolis_client_single_upstairs_health for a
 * read-write upstairs, Active with all three downstairs Active.
 */
export interface UpstairsStatus {
  readonly upstairsId: string;
  readonly targets: readonly NodeId[];
  readonly healthy: boolean;
}

/** What the upstairs inside a Propolis tells Nexus when a repair ends (cpapi_upstairs_repair_finish). */
export interface RepairFinished {
  readonly type: 'CpapiUpstairsRepairFinish';
  readonly upstairsId: string;
  readonly repairType: 'Reconciliation' | 'Live';
  /** The downstairs that were repaired. */
  readonly targets: readonly NodeId[];
  readonly succeeded: boolean;
}
