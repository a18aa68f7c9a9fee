// The instance-start saga (nexus/src/app/sagas/instance_start.rs), its nodes in the real order
// less the networking ones: create the VMM record (undo: mark it SagaUnwound), make it the
// instance's active VMM (undo: back to NoVmm while nothing moved on), have its sled-agent register
// it (undo: unregister; with Crucible disks, their volumes are checked out first and the VMM is
// given their VCRs), charge virtual provisioning (undo: release it), and ask the VMM to run.
// An unwound start leaves its VMM SagaUnwound, which counts as "no VMM": a later start may take
// the instance over, and the reincarnation task picks such instances up.
//
// Bug switch nexus/start-reregisters-after-crash: the first registration of a run of
// ensure_registered is blind, as upstream's (a re-run after a Nexus crash may revive a VMM the
// sled-agent lost and Nexus has since failed and folded: a zombie).
//
// Bug switch nexus/unwind-clears-vmm-ids: the undo of create_vmm_record clears the instance's
// active VMM id itself and leaves the VMM record as it was, instead of marking it SagaUnwound for
// the update saga, the reaper and reincarnation to act on.

import type { SledAgentReply } from '../../sled-agent/api.ts';
import { call, sleep, type Flow } from '../../../ports/index.ts';
import type { NexusContext } from '../context.ts';
import { db, dbStep } from '../db-client.ts';
import { backoffMs } from '../saga/executor.ts';
import { failed, ok, type SagaDef } from '../saga/saga.ts';
import { notifyVmmUpdated } from '../vmm-updated.ts';
import { staleLockFields } from './stale-lock.ts';
import type { InstanceRow } from '../../crdb/tables.ts';
import { isTerminal } from '../../common/vmm-state.ts';

export const BUG_REREGISTERS = 'nexus/start-reregisters-after-crash';

export interface StartParams {
  readonly instanceId: string;
  readonly vmmId: string;
  readonly sledId: string;
  /** The state generation the start was decided on. */
  readonly generation: number;
  readonly reason: 'User' | 'AutoRestart';
  /** The lock fields as read (used only by the bug switch nexus/lock-in-runtime-state). */
  readonly lockAsRead: Pick<InstanceRow, 'updaterId' | 'updaterGen'>;
}

/**
 * Calls to the sled-agent (and writes of what it answers) before the step gives up and the saga
 * unwinds. With backoff they outlast any fault episode: a start that gives up while its VMM runs
 * unwinds an instance the user has already seen Running.
 */
const SLED_ATTEMPTS = 40;

export const instanceStart: SagaDef<StartParams> = {
  name: 'instance-start',
  instanceOf: (p) => p.instanceId,
  nodes: [
    {
      name: 'create_vmm_record',
      *action(run) {
        const { vmmId, instanceId, sledId } = run.params;
        const r = yield* dbStep<'VmmInsert'>(run.nexus, { type: 'VmmInsert', vmmId, instanceId, sledId });
        return r === undefined ? failed('the database did not answer') : ok();
      },
      *undo(run) {
        if (run.nexus.bugs.has('nexus/unwind-clears-vmm-ids')) {
          // The pre-#5858 unwind: take the VMM off the instance here, leave the VMM record as it is.
          const r = yield* db<'InstanceMoveToStartingUndo'>(run.nexus, { type: 'InstanceMoveToStartingUndo', instanceId: run.params.instanceId, vmmId: run.params.vmmId, stale: null, force: true });
          return r.ok;
        }
        const r = yield* db<'VmmMarkSagaUnwound'>(run.nexus, { type: 'VmmMarkSagaUnwound', vmmId: run.params.vmmId });
        if (!r.ok) return false;
        run.nexus.kick('instance_reincarnation');
        return true;
      },
    },
    {
      name: 'move_to_starting',
      *action(run) {
        const { instanceId, vmmId, generation, reason } = run.params;
        for (let attempt = 0; attempt < SLED_ATTEMPTS; attempt++) {
          const r = yield* dbStep<'InstanceMoveToStarting'>(run.nexus, {
            type: 'InstanceMoveToStarting',
            instanceId,
            vmmId,
            expectedGeneration: generation,
            autoRestart: reason === 'AutoRestart',
            stale: staleLockFields(run.nexus, run.params.lockAsRead),
          });
          if (r === undefined) return failed('the database did not answer');
          if (r.moved) return ok();
          if (!r.locked) return failed('Conflict: the instance changed since the start was decided');
          yield* sleep(backoffMs(attempt)); // an update is folding something in: wait for it
        }
        return failed('Conflict: an update held the instance too long');
      },
      *undo(run) {
        const { instanceId, vmmId } = run.params;
        const r = yield* db<'InstanceMoveToStartingUndo'>(run.nexus, { type: 'InstanceMoveToStartingUndo', instanceId, vmmId, stale: staleLockFields(run.nexus, run.params.lockAsRead), force: false });
        return r.ok;
      },
    },
    {
      name: 'ensure_registered',
      *action(run) {
        const { vmmId, instanceId, sledId } = run.params;
        // With Crucible disks, each volume is checked out (its generation up) for the new VMM.
        const checkout = run.nexus.config.crucibleDisks === true ? yield* dbStep<'VolumeCheckoutForInstance'>(run.nexus, { type: 'VolumeCheckoutForInstance', instanceId }) : { disks: [] };
        if (checkout === undefined) return failed('the database did not answer');
        for (let attempt = 0; attempt < SLED_ATTEMPTS; attempt++) {
          // Upstream registers blind on the first attempt, a re-run after a Nexus crash included.
          const blind = attempt === 0 && run.nexus.bugs.has(BUG_REREGISTERS);
          const seen = blind ? 'creating' : yield* registeredMeanwhile(run.nexus, instanceId, vmmId);
          if (seen === 'registered') return ok();
          if (seen === 'gone') return failed(`VMM ${vmmId} is no longer one to register`);
          if (seen === 'unknown') {
            yield* sleep(backoffMs(attempt));
            continue;
          }
          const r = yield* call<SledAgentReply>(sledId, { type: 'VmmRegister', vmmId, instanceId, migration: null, ...(checkout.disks.length > 0 ? { disks: checkout.disks } : {}) }, run.nexus.config.sledTimeoutMs);
          if (r.ok && r.reply.type === 'VmmState') {
            // Record what the sled-agent registered: until then the database says Creating.
            for (let write = 0; write < SLED_ATTEMPTS; write++) {
              if (yield* notifyVmmUpdated(run.nexus, vmmId, r.reply.state)) return ok();
              yield* sleep(backoffMs(write));
            }
            return failed('the database did not answer');
          }
          yield* sleep(backoffMs(attempt));
        }
        return failed(`sled-agent ${sledId} did not register VMM ${vmmId}`);
      },
      *undo(run) {
        const { vmmId, sledId } = run.params;
        const r = yield* call<SledAgentReply>(sledId, { type: 'VmmUnregister', vmmId }, run.nexus.config.sledTimeoutMs);
        return r.ok;
      },
    },
    {
      name: 'account_virtual_resources',
      *action(run) {
        const r = yield* dbStep<'ProvisioningInsertInstance'>(run.nexus, { type: 'ProvisioningInsertInstance', instanceId: run.params.instanceId, vmmId: run.params.vmmId });
        return r === undefined ? failed('the database did not answer') : ok(r.charged);
      },
      *undo(run) {
        // Only our own charge: if an update folded our VMM in, it released that charge, and any
        // charge there now is a newer start's.
        const vmmId = run.nexus.bugs.has('nexus/start-undo-releases-any-charge') ? null : run.params.vmmId;
        return (yield* db<'ProvisioningDeleteInstance'>(run.nexus, { type: 'ProvisioningDeleteInstance', instanceId: run.params.instanceId, vmmId })).ok;
      },
    },
    {
      name: 'ensure_running',
      *action(run) {
        const { vmmId, sledId } = run.params;
        for (let attempt = 0; attempt < SLED_ATTEMPTS; attempt++) {
          const r = yield* call<SledAgentReply>(sledId, { type: 'VmmPutState', vmmId, target: 'Running' }, run.nexus.config.sledTimeoutMs);
          if (r.ok && r.reply.type === 'NoSuchInstance') return failed(`sled-agent ${sledId} has no VMM ${vmmId}`);
          if (r.ok && r.reply.type === 'VmmState') {
            yield* notifyVmmUpdated(run.nexus, vmmId, r.reply.state);
            return ok();
          }
          yield* sleep(backoffMs(attempt));
        }
        return failed(`sled-agent ${sledId} did not answer`);
      },
    },
  ],
};

export function newStartParams(nexus: NexusContext, instance: InstanceRow, reason: StartParams['reason']): StartParams {
  const { sleds } = nexus.config;
  return {
    instanceId: instance.id,
    vmmId: nexus.env.mintId('vmm'),
    sledId: sleds[nexus.env.choose('nexus.placeSled', sleds.length)]!,
    generation: instance.stateGeneration,
    reason,
    lockAsRead: { updaterId: instance.updaterId, updaterGen: instance.updaterGen },
  };
}

/**
 * Before each registration (an earlier one may have reached the sled-agent, its answer lost, in
 * this run of the node or in one before a Nexus crash): the VMM's record says whether it lived
 * meanwhile. A registration must not bring back a VMM the sled-agent lost (a crash) and Nexus has
 * since marked Failed, folded and deleted: the sled-agent would run it again, a zombie no
 * instance holds (O-L4; the README's former open finding, and nexus/start-reregisters-after-crash).
 * Registered: the sled-agent reported it (Starting or later); gone: it is not the instance's
 * active VMM any more, or is terminal; creating: never reported, so register (the watcher cannot
 * mark a VMM Failed before it was reported, so nothing races this read); unknown: no answer.
 */
function* registeredMeanwhile(nexus: NexusContext, instanceId: string, vmmId: string): Flow<'registered' | 'gone' | 'creating' | 'unknown'> {
  const r = yield* db<'InstanceFetch'>(nexus, { type: 'InstanceFetch', instanceId });
  if (!r.ok) return 'unknown';
  const vmm = r.reply?.activeVmm?.id === vmmId ? r.reply.activeVmm : null;
  if (vmm === null || isTerminal(vmm.state) || vmm.state === 'SagaUnwound') return 'gone';
  return vmm.state === 'Creating' ? 'creating' : 'registered';
}
