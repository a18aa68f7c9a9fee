// Messages between the upstairs and whoever drives it: activation (GoActiveWithGen), deactivation
// and target replacement (replace.ts) from the control plane, and block IO from the guest. Every request
// carries an id and gets one reply.

import type { BlockData } from '../protocol.ts';
import type { ReplaceResult } from './replace.ts';

export type UpstairsRequest =
  | { readonly type: 'GoActiveWithGen'; readonly requestId: string; readonly gen: number }
  /** Final flush, then every client stopped; back to Initializing (only from Active). */
  | { readonly type: 'Deactivate'; readonly requestId: string }
  /** A VCR with one target changed (Propolis' replace): `old` becomes `new`. */
  | { readonly type: 'Replace'; readonly requestId: string; readonly old: string; readonly new: string }
  | { readonly type: 'GuestWrite'; readonly requestId: string; readonly extent: number; readonly block: number; readonly writeId: string }
  | { readonly type: 'GuestRead'; readonly requestId: string; readonly extent: number; readonly block: number }
  | { readonly type: 'GuestFlush'; readonly requestId: string };

export type UpstairsReply =
  | { readonly type: 'ActivationReply'; readonly requestId: string; readonly ok: boolean; readonly error: string | null }
  | { readonly type: 'DeactivateReply'; readonly requestId: string; readonly ok: boolean; readonly error: string | null }
  | { readonly type: 'ReplaceReply'; readonly requestId: string; readonly result: ReplaceResult; readonly why: string }
  /** A repair ended (reconciliation at activation, or a live repair): what Nexus is told (cpapi_upstairs_repair_finish). */
  | { readonly type: 'RepairFinished'; readonly repairType: 'Reconciliation' | 'Live'; readonly targets: readonly string[]; readonly succeeded: boolean }
  /** `sessionId` and `gen`: the upstairs incarnation that answered and the generation it was
   *  activated at (a flush covers only the writes acknowledged since that activation). */
  | { readonly type: 'GuestReply'; readonly requestId: string; readonly sessionId: string; readonly gen: number; readonly ok: boolean; readonly data: BlockData | null; readonly error: string | null };
