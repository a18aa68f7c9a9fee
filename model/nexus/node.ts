// Nexus as a node. It keeps nothing durable: every record lives in CockroachDB. Its API handlers
// are flows; its background tasks run on periodic timers, one pass at a time per task (an
// activation that finds a pass still running is skipped, as Nexus's background task driver does).

import { unreachable } from '../assert.ts';
import type { VmmRuntimeState } from '../common/vmm-state.ts';
import type { Bugs, Env, Flow, NodeDef, NodeId, Process } from '../ports.ts';
import { ok, error, type NexusReply, type NexusRequest } from './api.ts';
import type { NexusConfig, NexusContext } from './context.ts';
import { instanceCreate, instanceStart, instanceStop, instanceView } from './instance-api.ts';
import { instanceUpdaterPass } from './instance-updater.ts';
import { instanceWatcherPass } from './instance-watcher.ts';
import { notifyVmmUpdated } from './vmm-updated.ts';

type BackgroundTask = 'instance_watcher' | 'instance_updater';
type Tag = { readonly type: 'Activate'; readonly task: BackgroundTask };

export function nexus(config: NexusConfig, bugs: Bugs): NodeDef<null> {
  return {
    id: config.id,
    initDurable: () => null,
    boot(env: Env): Process {
      const ctx: NexusContext = { env, config, bugs };
      const running = new Set<BackgroundTask>();
      const periods: Record<BackgroundTask, number> = {
        instance_watcher: config.watcherPeriodMs,
        instance_updater: config.updaterPeriodMs,
      };
      for (const task of Object.keys(periods) as BackgroundTask[]) {
        env.setTimer(env.choose(`nexus.${task}.phaseMs`, periods[task]), { type: 'Activate', task } satisfies Tag);
      }
      function* activation(task: BackgroundTask): Flow<void> {
        try {
          yield* task === 'instance_watcher' ? instanceWatcherPass(ctx) : instanceUpdaterPass(ctx);
        } finally {
          running.delete(task);
        }
      }
      return {
        onTimer(_env: Env, tag: unknown): void {
          const { task } = tag as Tag;
          env.setTimer(periods[task], tag);
          if (running.has(task)) return;
          running.add(task);
          env.spawn(task, activation(task));
        },
        onRequest(_env: Env, _from: NodeId, request: unknown): Flow<NexusReply> {
          const r = request as NexusRequest;
          switch (r.type) {
            case 'InstanceCreate':
              return instanceCreate(ctx, r.instanceId);
            case 'InstanceView':
              return instanceView(ctx, r.instanceId);
            case 'InstanceStart':
              return instanceStart(ctx, r.instanceId);
            case 'InstanceStop':
              return instanceStop(ctx, r.instanceId);
            case 'CpapiVmmPut':
              return vmmPut(ctx, r.vmmId, r.runtime);
            default:
              return unreachable(r, 'Nexus request');
          }
        },
      };
    },
  };
}

function* vmmPut(ctx: NexusContext, vmmId: string, runtime: VmmRuntimeState): Flow<NexusReply> {
  const written = yield* notifyVmmUpdated(ctx, vmmId, runtime);
  return written ? ok() : error('ServiceUnavailable', 'the database did not answer');
}
