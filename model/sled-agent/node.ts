// The simulated sled-agent: a table of VMMs that lives in memory (a crash empties it), the API
// Nexus calls, and the publication of every VMM state to Nexus (cpapi_vmms_put).
//
// RFD 486 §6.1: a VMM stays in the table until its Destroyed state has been published, i.e.
// Nexus has acknowledged it, so a later "no such instance" can only reach a caller whose view
// of the VMM is out of date by generation. The bug switch `sled-agent/remove-before-notify`
// restores the simulated sled-agent's historical order (omicron#7282: sim_poke removes a
// Destroyed VMM from its collection first and notifies Nexus after).

import { unreachable } from '../assert.ts';
import { call, sleep, between, type Bugs, type Env, type Flow, type NodeDef, type NodeId, type Process } from '../ports.ts';
import type { NexusReply } from '../nexus/api.ts';
import type { SledAgentReply, SledAgentRequest } from './api.ts';
import { advance, newSimVmm, nextState, runtimeOf, type SimVmm } from './sim-vmm.ts';

export interface SledAgentConfig {
  readonly id: NodeId;
  /** Every Nexus; each report goes to one of them (internal DNS would pick one). */
  readonly nexus: readonly NodeId[];
  readonly nexusTimeoutMs: number;
  readonly progressMsMin: number;
  readonly progressMsMax: number;
  /** Publication attempts per VMM; with backoff they outlast any fault episode. */
  readonly publishAttempts: number;
}

export interface SledAgentProcess extends Process {
  readonly vmms: ReadonlyMap<string, SimVmm>;
}

type Tag = { readonly type: 'Progress'; readonly vmmId: string };

const PUBLISH_BACKOFF_MS_MAX = 1000;

export function simSledAgent(config: SledAgentConfig, bugs: Bugs): NodeDef<null> {
  const removeBeforeNotify = bugs.has('sled-agent/remove-before-notify');
  return {
    id: config.id,
    initDurable: () => null,
    boot(env: Env): SledAgentProcess {
      const vmms = new Map<string, SimVmm>();

      const scheduleProgress = (vmm: SimVmm): void => {
        if (vmm.progressing || nextState(vmm) === null) return;
        vmm.progressing = true;
        env.setTimer(between(env, 'sled.progressMs', config.progressMsMin, config.progressMsMax), { type: 'Progress', vmmId: vmm.id } satisfies Tag);
      };

      const transition = (vmm: SimVmm, to: SimVmm['state']): void => {
        advance(vmm, to);
        if (to === 'Destroyed' && removeBeforeNotify) vmms.delete(vmm.id);
        publish(vmm);
        scheduleProgress(vmm);
      };

      const publish = (vmm: SimVmm): void => {
        if (vmm.publishing) return; // the running publisher sends the newest state next
        vmm.publishing = true;
        env.spawn(`publish ${vmm.id}`, publisher(vmm));
      };

      function* publisher(vmm: SimVmm): Flow<void> {
        for (let attempt = 0; attempt < config.publishAttempts; attempt++) {
          const runtime = runtimeOf(vmm);
          const nexus = config.nexus[env.choose('sled.nexus', config.nexus.length)]!;
          const r = yield* call<NexusReply>(nexus, { type: 'CpapiVmmPut', vmmId: vmm.id, runtime }, config.nexusTimeoutMs);
          if (r.ok && r.reply.type === 'Ok') {
            vmm.publishedGen = Math.max(vmm.publishedGen, runtime.gen);
            if (runtime.state === 'Destroyed' && vmms.get(vmm.id) === vmm) vmms.delete(vmm.id);
            if (vmm.gen === runtime.gen) break;
            attempt = -1; // a newer state to publish: a fresh budget
            continue;
          }
          yield* sleep(Math.min(PUBLISH_BACKOFF_MS_MAX, 25 * 2 ** attempt));
        }
        vmm.publishing = false;
      }

      function serve(request: SledAgentRequest): SledAgentReply {
        switch (request.type) {
          case 'VmmRegister': {
            let vmm = vmms.get(request.vmmId);
            if (vmm === undefined) {
              vmm = newSimVmm(request.vmmId, request.instanceId);
              vmms.set(vmm.id, vmm);
              publish(vmm);
              scheduleProgress(vmm);
            }
            return { type: 'VmmState', vmmId: vmm.id, runtime: runtimeOf(vmm) };
          }
          case 'VmmPutState': {
            const vmm = vmms.get(request.vmmId);
            if (vmm === undefined) return { type: 'NoSuchInstance', vmmId: request.vmmId };
            if (request.target === 'Stopped' && vmm.target !== 'Stopped') {
              vmm.target = 'Stopped';
              if (vmm.state === 'Starting' || vmm.state === 'Running') transition(vmm, 'Stopping');
            }
            return { type: 'VmmState', vmmId: vmm.id, runtime: runtimeOf(vmm) };
          }
          case 'VmmUnregister':
            vmms.delete(request.vmmId);
            return { type: 'VmmUnregistered', vmmId: request.vmmId };
          case 'VmmGetState': {
            const vmm = vmms.get(request.vmmId);
            return vmm === undefined ? { type: 'NoSuchInstance', vmmId: request.vmmId } : { type: 'VmmState', vmmId: vmm.id, runtime: runtimeOf(vmm) };
          }
          default:
            return unreachable(request, 'sled-agent request');
        }
      }

      return {
        vmms,
        onTimer(_env: Env, tag: unknown): void {
          const vmm = vmms.get((tag as Tag).vmmId);
          if (vmm === undefined) return;
          vmm.progressing = false;
          const to = nextState(vmm);
          if (to !== null) transition(vmm, to);
        },
        onCall(_env: Env, _from: NodeId, request: unknown): SledAgentReply {
          return serve(request as SledAgentRequest);
        },
      };
    },
  };
}
