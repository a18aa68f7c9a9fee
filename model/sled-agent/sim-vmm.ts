// A simulated VMM's state machine (sled-agent/src/sim/instance.rs, simplified to the states the
// lifecycle needs). It walks Starting -> Running, and on a stop Stopping -> Stopped -> Destroyed,
// bumping its generation by one at every state: only the sled-agent moves a VMM's generation.

import { panic } from '../assert.ts';
import type { VmmRuntimeState, VmmState } from '../common/vmm-state.ts';

export interface SimVmm {
  readonly id: string;
  readonly instanceId: string;
  state: VmmState;
  gen: number;
  target: 'Running' | 'Stopped';
  /** A progress timer is set. */
  progressing: boolean;
  /** A publisher flow is sending this VMM's state to Nexus. */
  publishing: boolean;
  /** The highest generation Nexus has acknowledged. */
  publishedGen: number;
}

/** The state a freshly registered VMM reports; Nexus recorded it as Creating at gen 1. */
export function newSimVmm(id: string, instanceId: string): SimVmm {
  return { id, instanceId, state: 'Starting', gen: 2, target: 'Running', progressing: false, publishing: false, publishedGen: 0 };
}

/** The next state on the way to the target, or null if the VMM is at rest. */
export function nextState(vmm: SimVmm): VmmState | null {
  switch (vmm.state) {
    case 'Starting':
      return vmm.target === 'Running' ? 'Running' : 'Stopping';
    case 'Running':
      return vmm.target === 'Stopped' ? 'Stopping' : null;
    case 'Stopping':
      return 'Stopped';
    case 'Stopped':
      return 'Destroyed';
    case 'Destroyed':
      return null;
    default:
      return panic(`simulated VMM ${vmm.id} in unexpected state ${vmm.state}`);
  }
}

export function advance(vmm: SimVmm, to: VmmState): void {
  if (vmm.state === 'Destroyed') panic(`simulated VMM ${vmm.id} moves after Destroyed`);
  vmm.state = to;
  vmm.gen++;
}

export function runtimeOf(vmm: SimVmm): VmmRuntimeState {
  return { state: vmm.state, gen: vmm.gen };
}
