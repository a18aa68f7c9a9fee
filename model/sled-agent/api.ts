// The sled-agent's API as Nexus calls it (sled-agent/api), simulated-sled-agent flavour.

import type { VmmRuntimeState } from '../common/vmm-state.ts';

export type SledAgentRequest =
  /** Register a VMM and ask it to run (instance_ensure_registered + put_state Running). */
  | { readonly type: 'VmmRegister'; readonly vmmId: string; readonly instanceId: string }
  /** Ask a VMM to move to a state (vmm_put_state). */
  | { readonly type: 'VmmPutState'; readonly vmmId: string; readonly target: 'Running' | 'Stopped' }
  /** The instance watcher's poll (vmm_get_state). */
  | { readonly type: 'VmmGetState'; readonly vmmId: string }
  /** instance_ensure_unregistered: stop tracking the VMM (an unwinding start saga). */
  | { readonly type: 'VmmUnregister'; readonly vmmId: string };

export type SledAgentReply =
  | { readonly type: 'VmmState'; readonly vmmId: string; readonly runtime: VmmRuntimeState }
  /** 404 with error code NO_SUCH_INSTANCE: the sled-agent has no such VMM. */
  | { readonly type: 'NoSuchInstance'; readonly vmmId: string }
  /** The VMM was unregistered (or was not there): the sled-agent no longer tracks it. */
  | { readonly type: 'VmmUnregistered'; readonly vmmId: string };
