// The instance-migrate saga (nexus/src/app/sagas/instance_migrate.rs), less networking: create the
// target VMM record (undo: mark it SagaUnwound), create the migration record (undo: fail both
// sides), set the instance's migration and target ids (no undo: an unwound migration leaves them
// for the update saga, which clears them once a side has failed), register the target with its
// sled-agent (undo: unregister), and ask the target to pull the VMM from the source (no undo: a
// migration under way cannot be called back; it ends Completed or Failed on its own).
//
// Bug switch nexus/migrate-reregisters-target: every registration of the target is blind, as
// upstream's `sim_ensure_destination_propolis` (a retry after a lost answer may revive a target
// the sled-agent lost and Nexus has since failed and folded: a zombie).

import type { SledAgentReply } from '../../sled-agent/api.ts';
import type { InstanceRow } from '../../crdb/tables.ts';
import { call, sleep, type Flow } from '../../../ports/index.ts';
import { isTerminal } from '../../common/vmm-state.ts';
import type { NexusContext } from '../context.ts';
import { db, dbStep } from '../db-client.ts';
import { backoffMs } from '../saga/executor.ts';
import { failed, ok, type SagaDef } from '../saga/saga.ts';
import { notifyVmmUpdated } from '../vmm-updated.ts';
import { staleLockFields } from './stale-lock.ts';

export interface MigrateParams {
  readonly instanceId: string;
  readonly migrationId: string;
  readonly srcVmmId: string;
  readonly srcSledId: string;
  readonly dstVmmId: string;
  readonly dstSledId: string;
  readonly lockAsRead: Pick<InstanceRow, 'updaterId' | 'updaterGen'>;
}

const SLED_ATTEMPTS = 40;
export const BUG_REREGISTERS_TARGET = 'nexus/migrate-reregisters-target';

export const instanceMigrate: SagaDef<MigrateParams> = {
  name: 'instance-migrate',
  instanceOf: (p) => p.instanceId,
  nodes: [
    {
      name: 'create_vmm_record',
      *action(run) {
        const r = yield* dbStep<'VmmInsert'>(run.nexus, { type: 'VmmInsert', vmmId: run.params.dstVmmId, instanceId: run.params.instanceId, sledId: run.params.dstSledId });
        return r === undefined ? failed('the database did not answer') : ok();
      },
      *undo(run) {
        return (yield* db<'VmmMarkSagaUnwound'>(run.nexus, { type: 'VmmMarkSagaUnwound', vmmId: run.params.dstVmmId })).ok;
      },
    },
    {
      name: 'create_migration_record',
      *action(run) {
        const { migrationId, instanceId, srcVmmId, dstVmmId } = run.params;
        const r = yield* dbStep<'MigrationInsert'>(run.nexus, { type: 'MigrationInsert', migrationId, instanceId, sourcePropolisId: srcVmmId, targetPropolisId: dstVmmId });
        return r === undefined ? failed('the database did not answer') : ok();
      },
      *undo(run) {
        return (yield* db<'MigrationMarkFailed'>(run.nexus, { type: 'MigrationMarkFailed', migrationId: run.params.migrationId })).ok;
      },
    },
    {
      name: 'set_migration_ids',
      *action(run) {
        const { instanceId, srcVmmId, migrationId, dstVmmId } = run.params;
        for (let attempt = 0; attempt < SLED_ATTEMPTS; attempt++) {
          const r = yield* dbStep<'InstanceSetMigrationIds'>(run.nexus, {
            type: 'InstanceSetMigrationIds',
            instanceId,
            sourcePropolisId: srcVmmId,
            migrationId,
            targetPropolisId: dstVmmId,
            stale: staleLockFields(run.nexus, run.params.lockAsRead),
          });
          if (r === undefined) return failed('the database did not answer');
          if (r.set) return ok();
          if (!r.locked) return failed('Conflict: the instance is not running on the source, or is migrating already');
          yield* sleep(backoffMs(attempt)); // an update is folding something in: wait for it
        }
        return failed('Conflict: an update held the instance too long');
      },
    },
    {
      name: 'ensure_destination_propolis',
      *action(run) {
        const { dstVmmId, dstSledId, instanceId, migrationId, srcSledId, srcVmmId } = run.params;
        const request = { type: 'VmmRegister', vmmId: dstVmmId, instanceId, migration: { migrationId, sledId: srcSledId, vmmId: srcVmmId } } as const;
        const blind = run.nexus.bugs.has(BUG_REREGISTERS_TARGET);
        for (let attempt = 0; attempt < SLED_ATTEMPTS; attempt++) {
          if (!blind && (yield* targetGone(run.nexus, instanceId, dstVmmId))) return failed(`the target VMM ${dstVmmId} is no longer the instance's: not registering it again`);
          const r = yield* call<SledAgentReply>(dstSledId, request, run.nexus.config.sledTimeoutMs);
          if (r.ok && r.reply.type === 'VmmState') {
            yield* notifyVmmUpdated(run.nexus, dstVmmId, r.reply.state);
            return ok();
          }
          yield* sleep(backoffMs(attempt));
        }
        return failed(`sled-agent ${dstSledId} did not register VMM ${dstVmmId}`);
      },
      *undo(run) {
        return (yield* call<SledAgentReply>(run.params.dstSledId, { type: 'VmmUnregister', vmmId: run.params.dstVmmId }, run.nexus.config.sledTimeoutMs)).ok;
      },
    },
    {
      name: 'instance_migrate',
      *action(run) {
        const { dstVmmId, dstSledId } = run.params;
        for (let attempt = 0; attempt < SLED_ATTEMPTS; attempt++) {
          const r = yield* call<SledAgentReply>(dstSledId, { type: 'VmmMigrateIn', vmmId: dstVmmId }, run.nexus.config.sledTimeoutMs);
          if (r.ok && r.reply.type === 'NoSuchInstance') return failed(`sled-agent ${dstSledId} has no VMM ${dstVmmId}`);
          if (r.ok && r.reply.type === 'VmmState') {
            yield* notifyVmmUpdated(run.nexus, dstVmmId, r.reply.state);
            return ok();
          }
          yield* sleep(backoffMs(attempt));
        }
        return failed(`sled-agent ${dstSledId} did not answer`);
      },
    },
  ],
};

export function newMigrateParams(nexus: NexusContext, instance: InstanceRow, src: { vmmId: string; sledId: string }, dstSledId: string): MigrateParams {
  return {
    instanceId: instance.id,
    migrationId: nexus.env.mintId('migration'),
    srcVmmId: src.vmmId,
    srcSledId: src.sledId,
    dstVmmId: nexus.env.mintId('vmm'),
    dstSledId,
    lockAsRead: { updaterId: instance.updaterId, updaterGen: instance.updaterGen },
  };
}

/**
 * Before each registration of the target (an earlier one may have reached its sled-agent, the
 * answer lost): if the target VMM's record left the instance or is terminal (the sled-agent lost
 * it, the instance watcher marked it Failed and an update folded it), registering it again would
 * bring it back to run on that sled, a zombie no instance holds (O-L4; instance-migration seed
 * 10634 before the change, and nexus/migrate-reregisters-target). No answer: try the registration.
 */
function* targetGone(nexus: NexusContext, instanceId: string, vmmId: string): Flow<boolean> {
  const r = yield* db<'InstanceFetch'>(nexus, { type: 'InstanceFetch', instanceId });
  if (!r.ok) return false;
  const vmm = r.reply?.targetVmm?.id === vmmId ? r.reply.targetVmm : null;
  return vmm === null || isTerminal(vmm.state) || vmm.state === 'SagaUnwound';
}
