// The instance-update sagas (nexus/src/app/sagas/instance_update/{start,mod}.rs).
// start-instance-update takes the updater lock, reads the instance, decides what must change
// (UpdatesRequired) and, if anything must, starts the real saga, which inherits the lock,
// releases virtual provisioning if the instance is left without a VMM, commits the new runtime
// and unlocks in one transaction, marks the folded VMMs deleted, and chains another
// start-instance-update if the instance still needs one. A failed lock (AlreadyLocked) is not an
// error: the holder will see the change, or the instance_updater task will come back.
//
// Bug switch nexus/no-updater-lock: no lock at all; the commit checks the generation alone.

import { panic } from '../../assert.ts';
import type { InstanceSnapshot, UpdaterLock } from '../../crdb/queries.ts';
import { between, probe, sleep, type Flow } from '../../../ports/index.ts';
import type { NexusContext } from '../context.ts';
import { db, dbStep } from '../db-client.ts';
import { updatesRequired, type UpdatesRequired } from '../instance-update.ts';
import { executeSaga, runSaga } from '../saga/executor.ts';
import { failed, ok, type NodeResult, type SagaDef, type SagaOutcome, type SagaRun } from '../saga/saga.ts';
import { staleLockFields } from './stale-lock.ts';

export interface StartUpdateParams {
  readonly instanceId: string;
}

export interface RealUpdateParams {
  readonly instanceId: string;
  readonly parentLock: UpdaterLock;
  readonly snapshot: InstanceSnapshot;
  readonly updates: UpdatesRequired;
}

const noLock = (nexus: NexusContext): boolean => nexus.bugs.has('nexus/no-updater-lock');

/** How long the switch takes to apply a network config change. */
const DPD_MS_MIN = 5;
const DPD_MS_MAX = 400;

export const startInstanceUpdate: SagaDef<StartUpdateParams> = {
  name: 'start-instance-update',
  instanceOf: (p) => p.instanceId,
  nodes: [
    {
      name: 'lock_instance',
      *action(run) {
        if (noLock(run.nexus)) return ok({ id: run.id, gen: -1 } satisfies UpdaterLock);
        const r = yield* dbStep<'UpdaterLock'>(run.nexus, { type: 'UpdaterLock', instanceId: run.params.instanceId, sagaId: run.id });
        if (r === undefined) return failed('the database did not answer');
        // siu_lock_instance: an instance gone is a permanent failure (test_start_saga_fails_when_instance_deleted).
        if (r.kind === 'NotFound') return failed('instance no longer exists; giving up');
        // The lock is ours (taken now, or on a run of this node whose answer was lost), never another saga's.
        if (r.kind === 'Locked' && r.lock.id !== run.id) panic(`saga ${run.id}: locked, but the lock names ${r.lock.id}`);
        return ok(r.kind === 'Locked' ? r.lock : null);
      },
      *undo(run) {
        const lock = run.outputs['lock_instance'] as UpdaterLock | null;
        if (lock === null || noLock(run.nexus)) return true;
        return (yield* db<'UpdaterUnlock'>(run.nexus, { type: 'UpdaterUnlock', instanceId: run.params.instanceId, lock })).ok;
      },
    },
    {
      name: 'fetch_state_and_start_real_saga',
      action: fetchStateAndStartRealSaga,
    },
  ],
};

/** Why a child fails when another saga holds the lock: the one child failure the parent shrugs off. */
const CHILD_ALREADY_LOCKED = 'become_updater: could not inherit the updater lock: AlreadyLocked';

function* fetchStateAndStartRealSaga(run: SagaRun<StartUpdateParams>): Flow<NodeResult> {
  const lock = run.outputs['lock_instance'] as UpdaterLock | null;
  if (lock === null) return ok(null); // someone else holds it
  // The real saga is a subsaga: its id follows from ours, and a re-run of this node (after a lost
  // answer or a crash) resumes it from its log instead of deciding again.
  const childId = `${run.id}.real`;
  const existing = yield* dbStep<'SagaFetch'>(run.nexus, { type: 'SagaFetch', sagaId: childId });
  if (existing === undefined) return failed('the database did not answer');
  if (existing !== null) {
    if (existing.state === 'Done') return ok(childId);
    if (existing.state === 'Failed') return afterChild(run, childId, { kind: 'Failed', error: existing.error ?? '' });
    return afterChild(run, childId, yield* runSaga(run.nexus, instanceUpdate, childId, existing.params as RealUpdateParams, existing));
  }
  const snapshot = yield* dbStep<'InstanceFetch'>(run.nexus, { type: 'InstanceFetch', instanceId: run.params.instanceId });
  if (snapshot === undefined) return failed('the database did not answer');
  const updates = snapshot === null ? null : updatesRequired(snapshot);
  if (snapshot === null || updates === null) {
    if (!noLock(run.nexus)) yield* dbStep<'UpdaterUnlock'>(run.nexus, { type: 'UpdaterUnlock', instanceId: run.params.instanceId, lock });
    return ok(null);
  }
  const params: RealUpdateParams = { instanceId: run.params.instanceId, parentLock: lock, snapshot, updates };
  return afterChild(run, childId, yield* executeSaga(run.nexus, instanceUpdate, childId, params));
}

/**
 * Upstream's rule (start.rs, siu_fetch_state_and_start_real_saga): a child that finished, or
 * that found the lock taken by another saga (this node ran twice), ends the parent well; any
 * other child failure unwinds the parent too, whose undo drops the lock the child never
 * inherited. The instance_updater task is kicked to try again.
 */
function afterChild(run: SagaRun<StartUpdateParams>, childId: string, outcome: SagaOutcome): NodeResult {
  if (outcome.kind === 'Stalled') return failed('the saga log did not answer');
  if (outcome.kind === 'Done') return ok(childId);
  run.nexus.kick('instance_updater');
  if (outcome.error.startsWith(CHILD_ALREADY_LOCKED)) return ok(childId);
  probe(run.nexus.env, 'instance-update.child-failed');
  return failed(`child saga ${childId} failed: ${outcome.error}`);
}

export const instanceUpdate: SagaDef<RealUpdateParams> = {
  name: 'instance-update',
  instanceOf: (p) => p.instanceId,
  nodes: [
    {
      name: 'become_updater',
      *action(run) {
        if (noLock(run.nexus)) return ok(null);
        const r = yield* dbStep<'UpdaterInherit'>(run.nexus, { type: 'UpdaterInherit', instanceId: run.params.instanceId, parent: run.params.parentLock, child: run.id });
        if (r === undefined) return failed('the database did not answer');
        return r.kind === 'Locked' ? ok(r.lock) : failed(`could not inherit the updater lock: ${r.kind}`);
      },
      *undo(run) {
        const lock = run.outputs['become_updater'] as UpdaterLock | null;
        if (lock === null) return true;
        const r = yield* db<'UpdaterUnlock'>(run.nexus, { type: 'UpdaterUnlock', instanceId: run.params.instanceId, lock });
        if (r.ok) run.nexus.kick('instance_updater');
        return r.ok;
      },
    },
    {
      // siu_update_network_config: Dendrite (the switch) is told the instance's new location or
      // that it has none. Not modelled beyond the time the call takes, which is real: it is why
      // two updaters working from one snapshot can be far apart.
      name: 'update_network_config',
      *action(run) {
        yield* sleep(between(run.nexus.env, 'nexus.dpdMs', DPD_MS_MIN, DPD_MS_MAX));
        return ok();
      },
    },
    {
      name: 'release_virtual_provisioning',
      *action(run) {
        if (!run.params.updates.deprovision) return ok(false);
        const r = yield* dbStep<'ProvisioningDeleteInstance'>(run.nexus, { type: 'ProvisioningDeleteInstance', instanceId: run.params.instanceId, vmmId: null });
        return r === undefined ? failed('the database did not answer') : ok(r.released);
      },
    },
    {
      name: 'commit_instance_updates',
      *action(run) {
        const lock = run.outputs['become_updater'] as UpdaterLock | null;
        const { updates, snapshot } = run.params;
        const r = yield* dbStep<'InstanceCommitUpdate'>(run.nexus, {
          type: 'InstanceCommitUpdate',
          instanceId: run.params.instanceId,
          lock,
          runtime: updates.runtime,
          intended: updates.intended,
          stale: staleLockFields(run.nexus, snapshot.instance),
        });
        if (r === undefined) return failed('the database did not answer');
        if (r.outcome === 'Conflict') return failed('the instance changed under the lock (Conflict)');
        run.nexus.env.log(`instance ${run.params.instanceId}: update ${r.outcome} -> ${updates.runtime.state}`);
        return ok(r.outcome);
      },
    },
    {
      name: 'mark_vmms_deleted',
      *action(run) {
        for (const vmmId of run.params.updates.destroyedVmms) {
          if ((yield* dbStep<'VmmMarkDeleted'>(run.nexus, { type: 'VmmMarkDeleted', vmmId })) === undefined) return failed('the database did not answer');
        }
        return ok();
      },
    },
    {
      name: 'chain_successor_saga',
      *action(run) {
        const snapshot = yield* dbStep<'InstanceFetch'>(run.nexus, { type: 'InstanceFetch', instanceId: run.params.instanceId });
        if (snapshot != null && updatesRequired(snapshot) !== null) startUpdateSaga(run.nexus, run.params.instanceId);
        else if (snapshot?.instance.state === 'Failed') run.nexus.kick('instance_reincarnation');
        return ok();
      },
    },
  ],
};

/** Start an update saga for the instance, in the background. */
export function startUpdateSaga(nexus: NexusContext, instanceId: string): void {
  const sagaId = nexus.env.mintId('saga');
  nexus.env.spawn('start-instance-update', executeSaga(nexus, startInstanceUpdate, sagaId, { instanceId }) as Flow<unknown>);
}

export type { SagaRun };
