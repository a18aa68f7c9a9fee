// The user: creates instances, then starts, stops and restarts them, one request at a time per
// instance, every choice drawn through the environment. Like a careful API client it retries a
// request until it gets a final answer: timeouts, 503 and 409 are tried again after a pause
// (bounded), Ok and 400/404 end the request. It remembers, per instance, the last state it
// asked for: the oracle holds the system to it.

import { call, sleep, between, type Env, type Flow, type NodeDef, type NodeId, type Process } from '../ports.ts';
import type { NexusReply, NexusRequest } from '../nexus/api.ts';

export interface UserConfig {
  readonly id: NodeId;
  readonly nexus: NodeId;
  readonly instances: readonly string[];
  readonly opsMax: number;
  readonly thinkMsMax: number;
  readonly timeoutMs: number;
  readonly attemptsMax: number;
}

export type UserAction = 'start' | 'stop';

export interface UserProcess extends Process {
  /** The last state asked for, per instance, from the moment the request is sent. */
  readonly lastAsked: ReadonlyMap<string, UserAction>;
  /** Instances whose whole script has run. */
  readonly finished: ReadonlySet<string>;
  /** Requests given up after `attemptsMax` tries. */
  readonly abandoned: readonly string[];
}

const RETRY_PAUSE_MS = 200;
/** Polls of the instance while waiting for a stop to finish before a restart's start. */
const WAIT_POLLS_MAX = 40;

export function user(config: UserConfig): NodeDef<null> {
  return {
    id: config.id,
    initDurable: () => null,
    boot(env: Env): UserProcess {
      const lastAsked = new Map<string, UserAction>();
      const finished = new Set<string>();
      const abandoned: string[] = [];

      function* request(req: NexusRequest): Flow<NexusReply | null> {
        for (let attempt = 0; attempt < config.attemptsMax; attempt++) {
          const r = yield* call<NexusReply>(config.nexus, req, config.timeoutMs);
          if (r.ok && (r.reply.type === 'Ok' || r.reply.code === 'InvalidRequest' || r.reply.code === 'NotFound')) return r.reply;
          yield* sleep(RETRY_PAUSE_MS);
        }
        abandoned.push(`${req.type} ${'instanceId' in req ? req.instanceId : ''}`);
        return null;
      }

      function* ask(instanceId: string, action: UserAction): Flow<void> {
        lastAsked.set(instanceId, action);
        yield* request({ type: action === 'start' ? 'InstanceStart' : 'InstanceStop', instanceId });
      }

      function* waitStopped(instanceId: string): Flow<void> {
        for (let i = 0; i < WAIT_POLLS_MAX; i++) {
          const view = yield* request({ type: 'InstanceView', instanceId });
          if (view === null || (view.type === 'Ok' && (view.state === 'Stopped' || view.state === 'Failed'))) return;
          yield* sleep(RETRY_PAUSE_MS);
        }
      }

      function* script(instanceId: string): Flow<void> {
        yield* request({ type: 'InstanceCreate', instanceId });
        const ops = between(env, 'user.ops', 1, config.opsMax);
        for (let i = 0; i < ops; i++) {
          yield* sleep(between(env, 'user.thinkMs', 0, config.thinkMsMax));
          const op = env.choose('user.op', 3);
          if (op === 0) yield* ask(instanceId, 'start');
          else if (op === 1) yield* ask(instanceId, 'stop');
          else {
            yield* ask(instanceId, 'stop');
            yield* waitStopped(instanceId);
            yield* ask(instanceId, 'start');
          }
        }
        finished.add(instanceId);
      }

      for (const instanceId of config.instances) env.spawn(`user ${instanceId}`, script(instanceId));
      return { lastAsked, finished, abandoned };
    },
  };
}
