// How a sled-agent tells Nexus about a VMM (cpapi_vmms_put): the newest state, retried with backoff
// until acknowledged; a state that changed meanwhile is sent next with a fresh budget.
// RFD 486 §6.1: a Destroyed VMM leaves the sled-agent's table only once Nexus has acknowledged that state,
// so a later "no such instance" can only reach a caller whose view is out of date by generation.

import { panic, panicUnless } from '../assert.ts';
import type { SledVmmState, VmmState } from '../common/vmm-state.ts';
import type { NexusReply } from '../nexus/api.ts';
import { call, sleep, type Env, type Flow, type NodeId } from '../../ports/index.ts';

export interface Published {
  readonly id: string;
  /** Bumped by every change a publication carries. */
  version: number;
  /** A publisher flow is sending this VMM's state. */
  publishing: boolean;
  /** The highest generation Nexus has acknowledged. */
  publishedGen: number;
}

export interface PublisherConfig {
  readonly nexus: readonly NodeId[];
  readonly nexusTimeoutMs: number;
  readonly publishAttempts: number;
}

const PUBLISH_BACKOFF_MS_MAX = 1000;

/**
 * Send `vmm`'s newest state (`stateOf`) until Nexus takes it. `table` is the sled-agent's VMM
 * table: a VMM in a state `leaves` is removed from it once acknowledged (Destroyed, unless the
 * caller says otherwise).
 */
export function* publisher<V extends Published>(env: Env, config: PublisherConfig, vmm: V, stateOf: (vmm: V) => SledVmmState, table: Map<string, V>, leaves: (state: VmmState) => boolean = (s) => s === 'Destroyed'): Flow<void> {
  // One publisher per VMM: the caller marks it, and a second one would race the first's generations.
  if (!vmm.publishing) panic(`VMM ${vmm.id}: a publisher started without the VMM marked publishing`);
  panicUnless(config.nexus.length > 0 && config.publishAttempts > 0, 'publisher: needs a Nexus and at least one attempt');
  for (let attempt = 0; attempt < config.publishAttempts; attempt++) {
    const version = vmm.version;
    const state = stateOf(vmm);
    const nexus = config.nexus[env.choose('sled.nexus', config.nexus.length)]!;
    const r = yield* call<NexusReply>(nexus, { type: 'CpapiVmmPut', vmmId: vmm.id, state }, config.nexusTimeoutMs);
    // A version only rises: what was sent is never newer than what the VMM is now.
    if (vmm.version < version) panic(`VMM ${vmm.id}: its version went back while publishing`);
    if (r.ok && r.reply.type === 'Ok') {
      vmm.publishedGen = Math.max(vmm.publishedGen, state.vmmState.gen);
      if (!(!leaves(state.vmmState.state) || vmm.publishedGen === state.vmmState.gen)) panic(`VMM ${vmm.id}: a final state acknowledged below a generation already published`);
      if (leaves(state.vmmState.state) && table.get(vmm.id) === vmm) {
        table.delete(vmm.id);
        env.log(`VMM ${vmm.id} removed from the table: Nexus took its final state (${state.vmmState.state}, gen ${state.vmmState.gen})`);
      }
      if (vmm.version === version) break;
      attempt = -1; // a newer state to publish: a fresh budget
      continue;
    }
    yield* sleep(Math.min(PUBLISH_BACKOFF_MS_MAX, 25 * 2 ** attempt));
  }
  if (!vmm.publishing) panic(`VMM ${vmm.id}: its publisher was stopped twice`);
  vmm.publishing = false;
}
