// Live migration between simulated sled-agents, standing in for Propolis-to-Propolis migration.
// The target drives it:
// 1. Nexus registers the target VMM (Migrating, its migration side Pending) and asks it to start;
// 2. the target asks the source to start sending (MigrateOutStart): the source VMM goes
//    Migrating, its side InProgress, and it waits at most SOURCE_WAIT_MS to hear how it ended;
// 3. the memory moves (virtual time), and the migration may fail on its own;
// 4. the target tells the source the outcome (MigrateOutFinish), retried until answered: on
//    success the source's side is Completed and its VMM shuts down, and only then does the
//    target's side complete and its VMM run; on failure both sides fail and the source runs on.
// The source never runs on once it has answered Finished, and the target never runs before it
// has, so there is never a moment with two running copies. A source that hears nothing in time
// (the target's sled crashed, say) takes its VMM back; a target told Aborted fails its side.

import { panic } from '../assert.ts';
import { between, call, flip, sleep, type Flow } from '../../ports/index.ts';
import type { SledAgentReply } from './api.ts';
import type { MigrationSource } from './api.ts';
import type { SledAgent } from './node.ts';
import { advanceMigration, nextState, type SimVmm } from './sim-vmm.ts';

export type MigrationTag = { readonly type: 'MigrationTimeout'; readonly vmmId: string; readonly migrationId: string };

const START_ATTEMPTS = 20;
const FINISH_ATTEMPTS = 40;
/** How long a source waits for the target to say how the migration ended. */
const SOURCE_WAIT_MS = 20_000;
const MIGRATION_MS_MIN = 50;

function answer(vmmId: string, a: 'Accepted' | 'Refused' | 'Finished' | 'Aborted'): SledAgentReply {
  return { type: 'MigrationAnswer', vmmId, answer: a };
}

/** Source side: the target asks it to start sending. Idempotent. */
export function migrateOutStart(sled: SledAgent, vmmId: string, migrationId: string): SledAgentReply {
  const vmm = sled.vmms.get(vmmId);
  if (vmm === undefined) return { type: 'NoSuchInstance', vmmId };
  const out = vmm.migrationOut;
  if (out?.migrationId === migrationId) return answer(vmmId, out.state === 'InProgress' ? 'Accepted' : out.state === 'Completed' ? 'Finished' : 'Aborted');
  if (vmm.state !== 'Running' || vmm.target !== 'Running') return answer(vmmId, 'Refused');
  vmm.migrationOut = { migrationId, state: 'InProgress', gen: 2 }; // the database's row starts at gen 1, Pending
  sled.transition(vmm, 'Migrating');
  sled.env.setTimer(SOURCE_WAIT_MS, { type: 'MigrationTimeout', vmmId, migrationId } satisfies MigrationTag);
  // Sending: the source VMM is Migrating, its side InProgress, until the target says how it ended.
  if (!((vmm as SimVmm).state === 'Migrating' && vmm.migrationOut.state === 'InProgress')) panic(`VMM ${vmmId}: accepted migration ${migrationId} while ${vmm.state}`); // (a cast: the narrowing above is stale after the transition)
  return answer(vmmId, 'Accepted');
}

/** Source side: the target says how it ended. Idempotent, even once the source VMM is gone. */
export function migrateOutFinish(sled: SledAgent, vmmId: string, migrationId: string, ok: boolean): SledAgentReply {
  const vmm = sled.vmms.get(vmmId);
  if (vmm === undefined) {
    // The source shut down after handing over and left the table; a target whose first answer
    // was lost still needs to hear that it was Finished.
    const ended = sled.migrationsOut.get(migrationId);
    return ended === undefined ? { type: 'NoSuchInstance', vmmId } : answer(vmmId, ended === 'Completed' ? 'Finished' : 'Aborted');
  }
  const out = vmm.migrationOut;
  if (out?.migrationId !== migrationId || out.state === 'Failed') return answer(vmmId, 'Aborted');
  if (out.state === 'Completed') return answer(vmmId, 'Finished');
  if (!ok) {
    failMigrationOut(sled, vmm);
    return answer(vmmId, 'Aborted');
  }
  advanceMigration(vmm, 'migrationOut', 'Completed');
  sled.migrationsOut.set(migrationId, 'Completed');
  vmm.target = 'Stopped';
  sled.transition(vmm, 'Stopping'); // the source's job is done: it shuts down
  // Never two running copies: a source that answers Finished no longer runs, and never will.
  const after: SimVmm['migrationOut'] = vmm.migrationOut;
  if (!(after?.state === 'Completed' && vmm.state === 'Stopping' && nextState(vmm) !== 'Running')) panic(`VMM ${vmmId}: answered Finished for ${migrationId} and runs on`);
  return answer(vmmId, 'Finished');
}

/** Source side: the migration failed; the VMM runs on unless it is being stopped. */
export function failMigrationOut(sled: SledAgent, vmm: SimVmm): void {
  if (vmm.migrationOut?.state !== 'InProgress') panic(`VMM ${vmm.id}: fails a migration out that is not in progress`);
  advanceMigration(vmm, 'migrationOut', 'Failed');
  sled.migrationsOut.set(vmm.migrationOut!.migrationId, 'Failed');
  if (vmm.target === 'Running' && vmm.state === 'Migrating') sled.transition(vmm, 'Running');
  else sled.publish(vmm);
  if (!(vmm.state !== 'Migrating' || vmm.target !== 'Running')) panic(`VMM ${vmm.id}: still Migrating after its migration out failed`);
}

/** Target side: pull the VMM from its source. */
export function* migrateIn(sled: SledAgent, vmm: SimVmm, source: MigrationSource): Flow<void> {
  const { env, config } = sled;
  const inProgress = (): boolean => vmm.migrationIn?.state === 'InProgress' && sled.vmms.get(vmm.id) === vmm;
  if (!(vmm.migrationIn?.state === 'Pending' && vmm.migrationIn.migrationId === source.migrationId)) panic(`VMM ${vmm.id}: pulls migration ${source.migrationId} it is not waiting for`);
  advanceMigration(vmm, 'migrationIn', 'InProgress');
  sled.publish(vmm);
  let started = false;
  for (let attempt = 0; attempt < START_ATTEMPTS && !started && inProgress(); attempt++) {
    const r = yield* call<SledAgentReply>(source.sledId, { type: 'MigrateOutStart', vmmId: source.vmmId, migrationId: source.migrationId }, config.nexusTimeoutMs);
    if (r.ok) {
      if (r.reply.type !== 'MigrationAnswer' || r.reply.answer !== 'Accepted') break;
      started = true;
    } else {
      yield* sleep(Math.min(1_000, 25 * 2 ** attempt));
    }
  }
  if (!started) return failIn(sled, vmm);
  yield* sleep(between(env, 'sled.migrationMs', MIGRATION_MS_MIN, config.migrationMsMax));
  if (!inProgress()) return; // stopped meanwhile
  const ok = !flip(env, 'sled.migrationFails', config.migrationFailPerMille);
  for (let attempt = 0; attempt < FINISH_ATTEMPTS; attempt++) {
    const r = yield* call<SledAgentReply>(source.sledId, { type: 'MigrateOutFinish', vmmId: source.vmmId, migrationId: source.migrationId, ok }, config.nexusTimeoutMs);
    if (r.ok) {
      if (!inProgress()) return;
      if (ok && r.reply.type === 'MigrationAnswer' && r.reply.answer === 'Finished') {
        advanceMigration(vmm, 'migrationIn', 'Completed');
        sled.transition(vmm, 'Running');
        if (vmm.state !== 'Running') panic(`VMM ${vmm.id}: took over, but is not Running`);
        return;
      }
      return failIn(sled, vmm);
    }
    yield* sleep(Math.min(1_000, 25 * 2 ** attempt));
  }
  return failIn(sled, vmm); // no word from the source: it takes its VMM back when its wait runs out
}

/**
 * The migration in failed: the target's Propolis reports Failed with it, and the VMM halts Failed
 * (common/instance.rs failure_after_migration_in_does_not_transition; upstream's simulated
 * sled-agent does not simulate a failed migration at all, `todo!`, so we follow the real one).
 */
function failIn(sled: SledAgent, vmm: SimVmm): void {
  if (vmm.migrationIn === null || vmm.migrationIn.state === 'Completed' || vmm.migrationIn.state === 'Failed') return;
  advanceMigration(vmm, 'migrationIn', 'Failed');
  vmm.target = 'Stopped';
  if (vmm.state === 'Migrating') sled.transition(vmm, 'Failed');
  else sled.publish(vmm);
  const after: SimVmm['migrationIn'] = vmm.migrationIn; // advanceMigration replaced it
  if (after?.state !== 'Failed') panic(`VMM ${vmm.id}: its failed migration in is not Failed`);
}
