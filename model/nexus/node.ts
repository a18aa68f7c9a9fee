// Nexus as a node. It keeps nothing durable: every record, the saga log included, lives in
// CockroachDB. On boot it recovers the sagas it owned. Its API handlers are flows; its background
// tasks run on periodic timers (or when kicked), one pass at a time per task: an activation that
// finds a pass still running is skipped, as Nexus's background task driver does.
//
// Fault model: Nexus may crash at any moment (the nemesis's `crash`): its passes, its sagas in
// flight and its timers die with it, and on restart it recovers from the saga log the sagas it
// owned (steno's recovery) and starts its background tasks again. Its calls to CockroachDB and
// to sled-agents may be lost or late (a partition, loss, delay), so every call has a timeout and
// every pass or saga step is written to be re-run; messages from sled-agents may be duplicated
// or reordered (generation numbers decide). CockroachDB itself never fails, and its connection
// delivers in order. Sled-agents may crash and come back with no VMM, or be cut off: a VMM a
// sled-agent no longer knows is concluded Failed (instance watcher), never assumed running. In
// the instance worlds a second Nexus runs the same tasks at the same time: the updater lock and
// the saga log's ownership keep them from stepping on each other. Saga error injection (a
// `signal` fault) makes saga nodes fail, to reach the undo paths.

import { panic, panicUnless, unreachable } from '../assert.ts';
import type { SledVmmState } from '../common/vmm-state.ts';
import type { Bugs, Env, Flow, NodeDef, NodeId, Process } from '../../ports/index.ts';
import { abandonedVmmReaperPass } from './abandoned-vmm-reaper.ts';
import { error, ok, type NexusReply, type NexusRequest } from './api.ts';
import type { BackgroundTask, NexusConfig, NexusContext } from './context.ts';
import { instanceCreate, instanceDeleteApi, instanceMigrateApi, instanceRebootApi, instanceStartApi, instanceStopApi, instanceView } from './instance-api.ts';
import { instanceReincarnationPass } from './instance-reincarnation.ts';
import { instanceUpdaterPass } from './instance-updater.ts';
import { instanceWatcherPass } from './instance-watcher.ts';
import { isSagaInjectError, setSagaInjection } from './saga/inject.ts';
import { recoverSagas } from './saga/recovery.ts';
import { notifyVmmUpdated } from './vmm-updated.ts';
import { regionReplacementDriverPass, regionReplacementPass } from './region-replacement.ts';
import { db } from './db-client.ts';
import { rsrFinishPass, rsrGarbageCollectPass, rsrStartPass, rsrStepPass } from './region-snapshot-replacement.ts';
import { serveStorage } from './storage-api.ts';
import type { RepairFinished } from '../propolis/api.ts';

type Tag = { readonly type: 'Activate'; readonly task: BackgroundTask; readonly periodic: boolean };

const PASSES: Record<BackgroundTask, (ctx: NexusContext) => Flow<void>> = {
  instance_watcher: instanceWatcherPass,
  instance_updater: instanceUpdaterPass,
  abandoned_vmm_reaper: abandonedVmmReaperPass,
  instance_reincarnation: instanceReincarnationPass,
  region_replacement: regionReplacementPass,
  region_replacement_driver: regionReplacementDriverPass,
  region_snapshot_replacement_start: rsrStartPass,
  region_snapshot_replacement_garbage_collection: rsrGarbageCollectPass,
  region_snapshot_replacement_step: rsrStepPass,
  region_snapshot_replacement_finish: rsrFinishPass,
};

export function nexus(config: NexusConfig, bugs: Bugs): NodeDef<null> {
  return { id: config.id, initDurable: () => null, boot: (env) => new NexusNode(env, config, bugs) };
}

/** One Nexus process: its background tasks' timers, the passes running, and its API. */
class NexusNode implements Process {
  readonly #ctx: NexusContext;
  /** Background tasks with a pass running: an activation that finds one is skipped. */
  readonly #running = new Set<BackgroundTask>();

  constructor(env: Env, config: NexusConfig, bugs: Bugs) {
    this.#ctx = {
      env,
      config,
      bugs,
      kick: (task) => env.setTimer(0, { type: 'Activate', task, periodic: false } satisfies Tag),
      localSagas: new Set(),
      sagaErrors: { armed: false },
    };
    // Each task's first activation at a drawn phase, so two Nexus instances do not run in lockstep.
    for (const [task, periodMs] of Object.entries(config.periodsMs) as [BackgroundTask, number][]) {
      if (!(periodMs > 0)) panic(`Nexus: background task ${task} needs a positive period`);
      if (!(task in PASSES)) panic(`Nexus: a period for ${task}, which has no pass`);
      env.setTimer(env.choose(`nexus.${task}.phaseMs`, periodMs), { type: 'Activate', task, periodic: true } satisfies Tag);
    }
    env.spawn('saga recovery', recoverSagas(this.#ctx));
  }

  onMessage(_env: Env, _from: NodeId, message: unknown): void {
    if (!isSagaInjectError(message)) return panic(`Nexus: unexpected message ${JSON.stringify(message)}`);
    setSagaInjection(this.#ctx, message);
  }

  onTimer(_env: Env, tag: unknown): void {
    const { task, periodic } = tag as Tag;
    panicUnless(task in PASSES, 'Nexus: an activation of an unknown background task');
    const { env, config } = this.#ctx;
    // Only a task with a period re-arms itself; a kick (period or not) is a one-off activation.
    if (periodic && !((config.periodsMs[task] ?? 0) > 0)) panic(`Nexus: a periodic activation of ${task}, which has no period`);
    if (periodic) env.setTimer(config.periodsMs[task]!, tag);
    if (this.#running.has(task)) return;
    this.#running.add(task);
    env.spawn(task, this.#activation(task));
  }

  *#activation(task: BackgroundTask): Flow<void> {
    if (!this.#running.has(task)) panic(`Nexus: a pass of ${task} runs unmarked`);
    try {
      yield* PASSES[task](this.#ctx);
    } finally {
      this.#running.delete(task);
      panicUnless(!this.#running.has(task), 'Nexus: a pass left its task marked running');
    }
  }

  onRequest(_env: Env, _from: NodeId, request: unknown): Flow<NexusReply> {
    const ctx = this.#ctx;
    const r = request as NexusRequest;
    switch (r.type) {
      case 'InstanceCreate':
        return instanceCreate(ctx, r.instanceId, r.autoRestartPolicy);
      case 'InstanceView':
        return instanceView(ctx, r.instanceId);
      case 'InstanceStart':
        return instanceStartApi(ctx, r.instanceId);
      case 'InstanceStop':
        return instanceStopApi(ctx, r.instanceId);
      case 'InstanceReboot':
        return instanceRebootApi(ctx, r.instanceId);
      case 'InstanceDelete':
        return instanceDeleteApi(ctx, r.instanceId);
      case 'InstanceMigrate':
        return instanceMigrateApi(ctx, r.instanceId, r.dstSledId);
      case 'CpapiVmmPut':
        return vmmPut(ctx, r.vmmId, r.state);
      case 'PhysicalDiskExpunge':
        return physicalDiskExpunge(ctx, r.downstairs);
      case 'CpapiUpstairsRepairFinish':
        return repairFinished(ctx, r);
      case 'DiskCreate':
      case 'DiskDelete':
      case 'DiskAttach':
      case 'DiskDetach':
      case 'SnapshotCreate':
      case 'SnapshotDelete':
      case 'StorageList':
        return serveStorage(ctx, r);
      default:
        return unreachable(r, 'Nexus request');
    }
  }
}

function* physicalDiskExpunge(ctx: NexusContext, downstairs: string): Flow<NexusReply> {
  panicUnless(downstairs !== '', 'Nexus: an expunge names no physical disk');
  const r = yield* db<'PhysicalDiskExpunge'>(ctx, { type: 'PhysicalDiskExpunge', downstairs });
  if (!r.ok) return error('ServiceUnavailable', 'the database did not answer');
  return r.reply.expunged ? ok() : error('NotFound', `no physical disk holds ${downstairs}`);
}

function* repairFinished(ctx: NexusContext, r: RepairFinished): Flow<NexusReply> {
  const written = yield* db<'UpstairsRepairNotify'>(ctx, { type: 'UpstairsRepairNotify', upstairsId: r.upstairsId, repairType: r.repairType, targets: r.targets, succeeded: r.succeeded });
  return written.ok ? ok() : error('ServiceUnavailable', 'the database did not answer');
}

function* vmmPut(ctx: NexusContext, vmmId: string, state: SledVmmState): Flow<NexusReply> {
  // Only a sled-agent moves a VMM's generation, from 2 up (Nexus created the record at 1).
  if (!(state.vmmState.gen >= 2)) panic(`Nexus: VMM ${vmmId} reported at gen ${state.vmmState.gen}, at or below the one Nexus created it with`);
  const written = yield* notifyVmmUpdated(ctx, vmmId, state);
  return written ? ok() : error('ServiceUnavailable', 'the database did not answer');
}
