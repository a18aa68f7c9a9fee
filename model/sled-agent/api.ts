// The sled-agent's API as Nexus calls it (sled-agent/api), simulated-sled-agent flavour, and the
// calls one sled-agent makes to another to move a VMM (in the real system, Propolis to Propolis).

import type { SledVmmState, VmmRuntimeState } from '../common/vmm-state.ts';
import type { Vcr } from '../crucible/vcr.ts';
import type { DiskSpec, PropolisReply } from '../propolis/api.ts';

/** A migration target is registered knowing where its source runs. */
export interface MigrationSource {
  readonly migrationId: string;
  readonly sledId: string;
  readonly vmmId: string;
}

export type SledAgentRequest =
  /** Register a VMM (instance_ensure_registered), with the Crucible disks its Propolis will have (none here for the simulated VMM); a migration target waits. */
  | { readonly type: 'VmmRegister'; readonly vmmId: string; readonly instanceId: string; readonly migration: MigrationSource | null; readonly disks?: readonly DiskSpec[] }
  /** Pass a new VCR for one disk to the VMM's Propolis (Nexus's region replacement drive; upstream Nexus calls Propolis itself). */
  | { readonly type: 'VmmVcrReplace'; readonly vmmId: string; readonly backendId: string; readonly vcr: Vcr }
  /** Ask the VMM's Propolis for one disk's volume status (disk_volume_status; forwarded likewise). */
  | { readonly type: 'VmmDiskVolumeStatus'; readonly vmmId: string; readonly backendId: string }
  /** Ask a VMM to move to a state (vmm_put_state). */
  | { readonly type: 'VmmPutState'; readonly vmmId: string; readonly target: 'Running' | 'Stopped' | 'Reboot' }
  /** Ask a registered migration target to pull its VMM from the source (MigrationTarget). */
  | { readonly type: 'VmmMigrateIn'; readonly vmmId: string }
  /** The instance watcher's poll (vmm_get_state). */
  | { readonly type: 'VmmGetState'; readonly vmmId: string }
  /** instance_ensure_unregistered: stop tracking the VMM (an unwinding saga). */
  | { readonly type: 'VmmUnregister'; readonly vmmId: string }
  /** Target to source: start sending the VMM. */
  | { readonly type: 'MigrateOutStart'; readonly vmmId: string; readonly migrationId: string }
  /** Target to source: the target has it (ok) or gave up; the source acts accordingly. */
  | { readonly type: 'MigrateOutFinish'; readonly vmmId: string; readonly migrationId: string; readonly ok: boolean };

export type SledAgentReply =
  | { readonly type: 'VmmState'; readonly vmmId: string; readonly runtime: VmmRuntimeState; readonly state: SledVmmState }
  /** What the VMM's Propolis answered a forwarded call (null: no answer in time). */
  | { readonly type: 'PropolisAnswered'; readonly vmmId: string; readonly reply: PropolisReply | null }
  /** 400: the VMM is in no state for the request (a reboot of a VM not running). */
  | { readonly type: 'Refused'; readonly vmmId: string; readonly message: string }
  /** 404 with error code NO_SUCH_INSTANCE: the sled-agent has no such VMM. */
  | { readonly type: 'NoSuchInstance'; readonly vmmId: string }
  /** The VMM was unregistered (or was not there: null): the sled-agent no longer tracks it; its last state, forced to Failed. */
  | { readonly type: 'VmmUnregistered'; readonly vmmId: string; readonly state: SledVmmState | null }
  /** Source to target: sending (Accepted), or not in a state to (Refused); migration over (Finished, Aborted). */
  | { readonly type: 'MigrationAnswer'; readonly vmmId: string; readonly answer: 'Accepted' | 'Refused' | 'Finished' | 'Aborted' };
