// Nexus's APIs: the external one a user calls, and the internal one a sled-agent calls
// (cpapi_vmms_put, "received new VMM runtime state from sled agent").

import type { AutoRestartPolicy, ExternalInstanceState, SledVmmState } from '../common/vmm-state.ts';
import type { RepairFinished } from '../propolis/api.ts';

export type NexusRequest =
  | { readonly type: 'InstanceCreate'; readonly instanceId: string; readonly autoRestartPolicy: AutoRestartPolicy }
  | { readonly type: 'InstanceStart'; readonly instanceId: string }
  | { readonly type: 'InstanceStop'; readonly instanceId: string }
  /** instance_reboot: only an instance with an active VMM; its sled-agent decides. */
  | { readonly type: 'InstanceReboot'; readonly instanceId: string }
  | { readonly type: 'InstanceView'; readonly instanceId: string }
  | { readonly type: 'InstanceDelete'; readonly instanceId: string }
  | { readonly type: 'InstanceMigrate'; readonly instanceId: string; readonly dstSledId: string }
  | { readonly type: 'CpapiVmmPut'; readonly vmmId: string; readonly state: SledVmmState }
  /** The operator expunges a physical disk (here: the one a downstairs runs on). */
  | { readonly type: 'PhysicalDiskExpunge'; readonly downstairs: string }
  /** An upstairs reports a repair ended (cpapi_upstairs_repair_finish). */
  | RepairFinished
  /** Disks and snapshots (storage-api.ts); a create waits for its saga, as the external API does. */
  | { readonly type: 'DiskCreate'; readonly diskId: string; readonly snapshotId: string | null }
  | { readonly type: 'DiskDelete'; readonly diskId: string }
  | { readonly type: 'DiskAttach'; readonly diskId: string; readonly instanceId: string }
  | { readonly type: 'DiskDetach'; readonly diskId: string }
  | { readonly type: 'SnapshotCreate'; readonly snapshotId: string; readonly diskId: string }
  | { readonly type: 'SnapshotDelete'; readonly snapshotId: string }
  /** The user's disks and snapshots that are not deleted. */
  | { readonly type: 'StorageList' };

export type NexusErrorCode =
  /** 409: the request conflicts with the instance's state now (e.g. start while stopping). */
  | 'Conflict'
  /** 503: a dependency (the database, a sled-agent) did not answer; try again. */
  | 'ServiceUnavailable'
  | 'NotFound'
  /** 400: the request makes no sense in this state. */
  | 'InvalidRequest'
  /** 500: the saga serving it failed and unwound; asking again may work. */
  | 'InternalError';

export type NexusReply =
  | { readonly type: 'Ok'; readonly state: ExternalInstanceState | null }
  | { readonly type: 'Storage'; readonly disks: readonly { readonly id: string; readonly instanceId: string | null }[]; readonly snapshots: readonly { readonly id: string; readonly state: string }[] }
  | { readonly type: 'Error'; readonly code: NexusErrorCode; readonly message: string };

export function ok(state: ExternalInstanceState | null = null): NexusReply {
  return { type: 'Ok', state };
}

export function error(code: NexusErrorCode, message: string): NexusReply {
  return { type: 'Error', code, message };
}
