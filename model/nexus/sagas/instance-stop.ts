// instance-stop: clear a Failed instance (with no VMM, or on a VMM an unwound start left
// SagaUnwound) to NoVmm, or forward the stop to the VMM's sled-agent and record its answer. A 404
// from the sled-agent marks the VMM Failed (mark_vmm_failed), and the stop reports the error. A
// migrating instance has its target stopped as well: the stop must reach the VMM the instance is
// about to live on, not only the one it is leaving (our fix; omicron sends it to the active VMM).

import type { SledAgentReply } from '../../sled-agent/api.ts';
import { call } from '../../../ports/index.ts';
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
        // Migrating: the instance may be about to live on the target, so it is stopped too (which
        // fails the migration on both sides). A target not there (yet, or any more) is no error.
        const target = run.params.snapshot.targetVmm;
        if (target !== null && target.state !== 'SagaUnwound' && target.timeDeleted === null) {
          const t = yield* call<SledAgentReply>(target.sledId, { type: 'VmmPutState', vmmId: target.id, target: 'Stopped' }, run.nexus.config.sledTimeoutMs);
          if (!t.ok) return failed(`ServiceUnavailable: sled-agent ${target.sledId} did not answer`);
          if (t.reply.type === 'VmmState') yield* notifyVmmUpdated(run.nexus, target.id, t.reply.state);
        }
        const r = yield* call<SledAgentReply>(activeVmm.sledId, { type: 'VmmPutState', vmmId: activeVmm.id, target: 'Stopped' }, run.nexus.config.sledTimeoutMs);
        if (!r.ok) return failed(`ServiceUnavailable: sled-agent ${activeVmm.sledId} did not answer`);
        if (r.reply.type === 'NoSuchInstance') {
          yield* markVmmFailed(run.nexus, activeVmm);
          return failed(`ServiceUnavailable: sled-agent ${activeVmm.sledId} has no VMM ${activeVmm.id}`);
        }
        if (r.reply.type === 'VmmState') yield* notifyVmmUpdated(run.nexus, activeVmm.id, r.reply.state);
        return ok('Stopping');
      },
    },
  ],
};
