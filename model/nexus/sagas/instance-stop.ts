// instance-stop: clear a Failed instance (with no VMM, or on a VMM an unwound start left
// SagaUnwound) to NoVmm, or forward the stop to the VMM's sled-agent and record its answer. A 404
// from the sled-agent marks the VMM Failed (mark_vmm_failed), and the stop reports the error.

import type { SledAgentReply } from '../../sled-agent/api.ts';
import { call } from '../../ports.ts';
import { dbStep } from '../db-client.ts';
import { failed, ok, type SagaDef } from '../saga/saga.ts';
import { markVmmFailed, notifyVmmUpdated } from '../vmm-updated.ts';
import { staleLockFields } from './stale-lock.ts';
import type { InstanceSnapshot } from '../../crdb/queries.ts';

export interface StopParams {
  readonly instanceId: string;
  readonly snapshot: InstanceSnapshot;
}

export const instanceStop: SagaDef<StopParams> = {
  name: 'instance-stop',
  instanceOf: (p) => p.instanceId,
  nodes: [
    {
      name: 'stop',
      *action(run) {
        const { instance, activeVmm } = run.params.snapshot;
        if (activeVmm === null || activeVmm.state === 'SagaUnwound') {
          if (instance.state !== 'Failed' && activeVmm === null) return ok('Stopped');
          const r = yield* dbStep<'InstanceClearFailed'>(run.nexus, {
            type: 'InstanceClearFailed',
            instanceId: instance.id,
            expectedGeneration: instance.stateGeneration,
            stale: staleLockFields(run.nexus, instance),
          });
          if (r === undefined) return failed('the database did not answer');
          return r.updated ? ok('Stopped') : failed('Conflict: the instance changed while stopping it');
        }
        const r = yield* call<SledAgentReply>(activeVmm.sledId, { type: 'VmmPutState', vmmId: activeVmm.id, target: 'Stopped' }, run.nexus.config.sledTimeoutMs);
        if (!r.ok) return failed(`ServiceUnavailable: sled-agent ${activeVmm.sledId} did not answer`);
        if (r.reply.type === 'NoSuchInstance') {
          yield* markVmmFailed(run.nexus, activeVmm);
          return failed(`ServiceUnavailable: sled-agent ${activeVmm.sledId} has no VMM ${activeVmm.id}`);
        }
        if (r.reply.type === 'VmmState') yield* notifyVmmUpdated(run.nexus, activeVmm.id, r.reply.runtime);
        return ok('Stopping');
      },
    },
  ],
};
