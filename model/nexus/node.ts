// Nexus as a node. It keeps nothing durable: every record, the saga log included, lives in
// CockroachDB. On boot it recovers the sagas it owned. Its API handlers are flows; its background
// tasks run on periodic timers (or when kicked), one pass at a time per task: an activation that
// finds a pass still running is skipped, as Nexus's background task driver does.

import { panic, unreachable } from '../assert.ts';
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
  return {
    id: config.id,
    initDurable: () => null,
    boot(env: Env): Process {
      const running = new Set<BackgroundTask>();
      const ctx: NexusContext = {
        env,
        config,
        bugs,
        kick: (task) => env.setTimer(0, { type: 'Activate', task, periodic: false } satisfies Tag),
        localSagas: new Set(),
        sagaErrors: { armed: false },
      };
      for (const [task, periodMs] of Object.entries(config.periodsMs) as [BackgroundTask, number][]) {
        env.setTimer(env.choose(`nexus.${task}.phaseMs`, periodMs), { type: 'Activate', task, periodic: true } satisfies Tag);
      }
      env.spawn('saga recovery', recoverSagas(ctx));
      function* activation(task: BackgroundTask): Flow<void> {
        try {
          yield* PASSES[task](ctx);
        } finally {
          running.delete(task);
        }
      }
      return {
        onMessage(_env: Env, _from: NodeId, message: unknown): void {
          if (!isSagaInjectError(message)) return panic(`Nexus: unexpected message ${JSON.stringify(message)}`);
          setSagaInjection(ctx, message);
        },
        onTimer(_env: Env, tag: unknown): void {
          const { task, periodic } = tag as Tag;
          if (periodic) env.setTimer(config.periodsMs[task]!, tag);
          if (running.has(task)) return;
          running.add(task);
          env.spawn(task, activation(task));
        },
        onRequest(_env: Env, _from: NodeId, request: unknown): Flow<NexusReply> {
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
        },
      };
    },
  };
}

function* physicalDiskExpunge(ctx: NexusContext, downstairs: string): Flow<NexusReply> {
  const r = yield* db<'PhysicalDiskExpunge'>(ctx, { type: 'PhysicalDiskExpunge', downstairs });
  if (!r.ok) return error('ServiceUnavailable', 'the database did not answer');
  return r.reply.expunged ? ok() : error('NotFound', `no physical disk holds ${downstairs}`);
}

function* repairFinished(ctx: NexusContext, r: RepairFinished): Flow<NexusReply> {
  const written = yield* db<'UpstairsRepairNotify'>(ctx, { type: 'UpstairsRepairNotify', upstairsId: r.upstairsId, repairType: r.repairType, targets: r.targets, succeeded: r.succeeded });
  return written.ok ? ok() : error('ServiceUnavailable', 'the database did not answer');
}

function* vmmPut(ctx: NexusContext, vmmId: string, state: SledVmmState): Flow<NexusReply> {
  const written = yield* notifyVmmUpdated(ctx, vmmId, state);
  return written ? ok() : error('ServiceUnavailable', 'the database did not answer');
}
