// Nexus's instance endpoints (nexus/src/app/instance.rs): create, view, start, stop, delete.
// Each is a flow whose return value is the reply to the user; the state changes run as sagas.
//
// start: intended state Running; Stopped or Failed with no VMM (or on a SagaUnwound one) runs the
//   instance-start saga; already starting or running, nothing to do; stopping, Conflict.
// stop: intended state Stopped, then the instance-stop saga.
// migrate: a Running instance moves to another sled through the instance-migrate saga.
// delete: the instance-delete saga (Stopped or Failed only).

import { panic, unreachable } from '../assert.ts';
import type { SledAgentReply } from '../sled-agent/api.ts';
import type { InstanceSnapshot } from '../crdb/queries.ts';
import { call, probe, type Flow } from '../../ports/index.ts';
import { error, ok, type NexusErrorCode, type NexusReply } from './api.ts';
import type { NexusContext } from './context.ts';
import { db } from './db-client.ts';
import { effectiveState } from './effective-state.ts';
import { executeSaga } from './saga/executor.ts';
import type { SagaOutcome } from './saga/saga.ts';
import { instanceDelete } from './sagas/instance-delete.ts';
import { instanceMigrate, newMigrateParams } from './sagas/instance-migrate.ts';
import { instanceStart, newStartParams } from './sagas/instance-start.ts';
import { instanceStop } from './sagas/instance-stop.ts';
import { markVmmFailed, notifyVmmUpdated } from './vmm-updated.ts';

const UNAVAILABLE = error('ServiceUnavailable', 'the database did not answer');

export const INSTANCE_NCPUS = 2;
export const INSTANCE_MEMORY_MIB = 4096;

export function* instanceCreate(ctx: NexusContext, instanceId: string, autoRestartPolicy: 'Never' | 'BestEffort' | null): Flow<NexusReply> {
  const created = yield* db<'InstanceCreate'>(ctx, { type: 'InstanceCreate', instanceId, ncpus: INSTANCE_NCPUS, memoryMib: INSTANCE_MEMORY_MIB, autoRestartPolicy });
  return created.ok ? ok('Stopped') : UNAVAILABLE;
}

export function* instanceView(ctx: NexusContext, instanceId: string): Flow<NexusReply> {
  const fetched = yield* db<'InstanceFetch'>(ctx, { type: 'InstanceFetch', instanceId });
  if (!fetched.ok) return UNAVAILABLE;
  if (fetched.reply === null) return error('NotFound', `no instance ${instanceId}`);
  return ok(effectiveState(fetched.reply));
}

export function* instanceStartApi(ctx: NexusContext, instanceId: string): Flow<NexusReply> {
  const snapshot = yield* setIntentAndFetch(ctx, instanceId, 'Running');
  if (typeof snapshot === 'string') return snapshot === 'unavailable' ? UNAVAILABLE : error('NotFound', `no instance ${instanceId}`);
  const state = effectiveState(snapshot);
  switch (state) {
    case 'Starting':
    case 'Running':
    case 'Rebooting':
    case 'Migrating':
      return ok(state); // AlreadyStarted
    case 'Stopped':
    case 'Failed': {
      const vmm = snapshot.activeVmm;
      if (vmm !== null && vmm.state !== 'SagaUnwound') return error('InvalidRequest', `instance is ${state} but still has an active VMM`);
      const outcome = yield* executeSaga(ctx, instanceStart, ctx.env.mintId('saga'), newStartParams(ctx, snapshot.instance, 'User'));
      return sagaReply(outcome, 'Starting');
    }
    case 'Stopping':
      return error('Conflict', 'instance must finish stopping before it can be started');
    case 'Creating':
    case 'Destroyed':
      return error('Conflict', `instance is in state ${state} but it must be stopped to be started`);
    default:
      return unreachable(state, 'instance state');
  }
}

export function* instanceStopApi(ctx: NexusContext, instanceId: string): Flow<NexusReply> {
  const snapshot = yield* setIntentAndFetch(ctx, instanceId, 'Stopped');
  if (typeof snapshot === 'string') return snapshot === 'unavailable' ? UNAVAILABLE : error('NotFound', `no instance ${instanceId}`);
  const state = effectiveState(snapshot);
  if (state === 'Stopped') return ok('Stopped'); // AlreadyDone
  if (state === 'Creating' || state === 'Destroyed') return error('InvalidRequest', `instance state cannot be changed from ${state}`);
  if (state === 'Failed' && snapshot.activeVmm !== null && snapshot.activeVmm.state !== 'SagaUnwound') {
    return error('InvalidRequest', 'instance is Failed but still has an active VMM');
  }
  const outcome = yield* executeSaga(ctx, instanceStop, ctx.env.mintId('saga'), { instanceId, snapshot });
  return sagaReply(outcome, outcome.kind === 'Done' ? (outcome.outputs['stop'] as 'Stopped' | 'Stopping') : 'Stopping');
}

/**
 * instance_reboot (nexus/src/app/instance.rs): the intent set to Running, then, with an active VMM,
 * the request sent to its sled-agent, which decides (a VM not running refuses: 400); with none,
 * refused here. A 404 from the sled-agent marks the VMM Failed, as for a stop. No saga.
 */
export function* instanceRebootApi(ctx: NexusContext, instanceId: string): Flow<NexusReply> {
  const snapshot = yield* setIntentAndFetch(ctx, instanceId, 'Running');
  if (typeof snapshot === 'string') return snapshot === 'unavailable' ? UNAVAILABLE : error('NotFound', `no instance ${instanceId}`);
  const vmm = snapshot.activeVmm;
  if (vmm === null) {
    probe(ctx.env, 'instance-reboot.no-vmm');
    return error('InvalidRequest', `cannot reboot an instance in state ${effectiveState(snapshot)} with no VMM`);
  }
  const r = yield* call<SledAgentReply>(vmm.sledId, { type: 'VmmPutState', vmmId: vmm.id, target: 'Reboot' }, ctx.config.sledTimeoutMs);
  if (!r.ok) return error('ServiceUnavailable', `sled-agent ${vmm.sledId} did not answer`);
  switch (r.reply.type) {
    case 'NoSuchInstance':
      yield* markVmmFailed(ctx, vmm);
      return error('ServiceUnavailable', `sled-agent ${vmm.sledId} has no VMM ${vmm.id}`);
    case 'Refused':
      probe(ctx.env, 'instance-reboot.refused');
      return error('InvalidRequest', r.reply.message);
    case 'VmmState':
      probe(ctx.env, 'instance-reboot.sent');
      return (yield* notifyVmmUpdated(ctx, vmm.id, r.reply.state)) ? ok('Rebooting') : UNAVAILABLE;
    default:
      return panic(`sled-agent answered a reboot with ${r.reply.type}`);
  }
}

export function* instanceMigrateApi(ctx: NexusContext, instanceId: string, dstSledId: string): Flow<NexusReply> {
  const fetched = yield* db<'InstanceFetch'>(ctx, { type: 'InstanceFetch', instanceId });
  if (!fetched.ok) return UNAVAILABLE;
  const snapshot = fetched.reply;
  if (snapshot === null) return error('NotFound', `no instance ${instanceId}`);
  const state = effectiveState(snapshot);
  const source = snapshot.activeVmm;
  if (state !== 'Running' || source === null) return error('Conflict', `instance is ${state}: only a Running instance can migrate`);
  if (!ctx.config.sleds.includes(dstSledId) || dstSledId === source.sledId) return error('InvalidRequest', `cannot migrate to ${dstSledId}`);
  const params = newMigrateParams(ctx, snapshot.instance, { vmmId: source.id, sledId: source.sledId }, dstSledId);
  return sagaReply(yield* executeSaga(ctx, instanceMigrate, ctx.env.mintId('saga'), params), 'Migrating');
}

export function* instanceDeleteApi(ctx: NexusContext, instanceId: string): Flow<NexusReply> {
  const outcome = yield* executeSaga(ctx, instanceDelete, ctx.env.mintId('saga'), { instanceId });
  return sagaReply(outcome, 'Destroyed');
}

function sagaReply(outcome: SagaOutcome, state: 'Starting' | 'Stopping' | 'Stopped' | 'Destroyed' | 'Migrating'): NexusReply {
  switch (outcome.kind) {
    case 'Done':
      return ok(state);
    case 'Stalled':
      return UNAVAILABLE;
    case 'Failed': {
      // The saga's error names the HTTP error the real endpoint gives, where it has one.
      const code: NexusErrorCode = outcome.error.includes('Conflict') ? 'Conflict' : 'ServiceUnavailable';
      return error(code, outcome.error);
    }
  }
}

function* setIntentAndFetch(ctx: NexusContext, instanceId: string, intended: 'Running' | 'Stopped'): Flow<InstanceSnapshot | 'unavailable' | 'not-found'> {
  const set = yield* db<'InstanceSetIntendedState'>(ctx, { type: 'InstanceSetIntendedState', instanceId, intended });
  if (!set.ok) return 'unavailable';
  if (!set.reply.found) return 'not-found';
  const fetched = yield* db<'InstanceFetch'>(ctx, { type: 'InstanceFetch', instanceId });
  if (!fetched.ok) return 'unavailable';
  return fetched.reply ?? 'not-found';
}
