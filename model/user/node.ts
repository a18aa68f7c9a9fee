// The user: creates instances, then starts, stops, restarts and migrates them (and now and then
// deletes one), one request at a time per instance, every choice drawn through the environment. Each
// request goes to a Nexus chosen at random, as a load balancer would send it. Like a careful API
// client it retries a request until it gets a final answer: timeouts, 503 and 409 are tried again
// after a pause (bounded), Ok and 400/404 end the request. It remembers, per instance, the last
// thing it asked for: the oracle holds the system to it.

import { call, sleep, between, flip, type Env, type Flow, type NodeDef, type NodeId, type Process } from '../ports.ts';
import type { AutoRestartPolicy } from '../common/vmm-state.ts';
import type { NexusReply, NexusRequest } from '../nexus/api.ts';

export interface UserInstance {
  readonly id: string;
  readonly autoRestartPolicy: AutoRestartPolicy;
}

/** What the user may do to an instance; a restart is a stop, a wait and a start. */
export type UserOp = 'start' | 'stop' | 'restart' | 'migrate';

export interface UserConfig {
  readonly id: NodeId;
  readonly nexus: readonly NodeId[];
  readonly instances: readonly UserInstance[];
  /** Sleds an instance may be asked to migrate to. */
  readonly sleds: readonly NodeId[];
  /** The menu each operation is drawn from (repeat an entry to make it likelier). */
  readonly ops: readonly UserOp[];
  /** Start every instance before the drawn operations. */
  readonly startFirst: boolean;
  readonly opsMax: number;
  readonly thinkMsMax: number;
  readonly timeoutMs: number;
  readonly attemptsMax: number;
  /** Chance, per mille, that an instance's script ends by deleting it. */
  readonly deletePerMille: number;
}

export type UserAction = 'start' | 'stop' | 'delete';

export interface UserProcess extends Process {
  /** The last thing asked for, per instance, from the moment the request is sent. */
  readonly lastAsked: ReadonlyMap<string, UserAction>;
  /** Deletes that Nexus accepted. */
  readonly deleted: ReadonlySet<string>;
  /** Instances whose whole script has run. */
  readonly finished: ReadonlySet<string>;
  /** Requests given up after `attemptsMax` tries. */
  readonly abandoned: readonly string[];
}

const RETRY_PAUSE_MS = 200;
/** Polls of the instance while waiting for it to settle. */
const WAIT_POLLS_MAX = 40;
/** Starts of one instance that settled Stopped before the user stops trying. */
const START_ROUNDS = 5;

export function user(config: UserConfig): NodeDef<null> {
  return {
    id: config.id,
    initDurable: () => null,
    boot(env: Env): UserProcess {
      const lastAsked = new Map<string, UserAction>();
      const deleted = new Set<string>();
      const finished = new Set<string>();
      const abandoned: string[] = [];

      /** `final`: error codes that end the request rather than being tried again. */
      function* request(req: NexusRequest, final: readonly string[] = ['InvalidRequest', 'NotFound']): Flow<NexusReply | null> {
        for (let attempt = 0; attempt < config.attemptsMax; attempt++) {
          const nexus = config.nexus[env.choose('user.nexus', config.nexus.length)]!;
          const r = yield* call<NexusReply>(nexus, req, config.timeoutMs);
          if (r.ok && (r.reply.type === 'Ok' || final.includes(r.reply.code))) return r.reply;
          yield* sleep(RETRY_PAUSE_MS);
        }
        abandoned.push(`${req.type} ${'instanceId' in req ? req.instanceId : ''}`);
        return null;
      }

      function* ask(instanceId: string, action: UserAction): Flow<NexusReply | null> {
        lastAsked.set(instanceId, action);
        const type = action === 'start' ? 'InstanceStart' : action === 'stop' ? 'InstanceStop' : 'InstanceDelete';
        return yield* request({ type, instanceId });
      }

      /** Poll until the instance is in one of `states`; the last state seen. */
      function* waitFor(instanceId: string, states: readonly string[]): Flow<string | null> {
        let state: string | null = null;
        for (let i = 0; i < WAIT_POLLS_MAX; i++) {
          const view = yield* request({ type: 'InstanceView', instanceId });
          if (view === null) return null;
          state = view.type === 'Ok' ? view.state : null;
          if (state !== null && states.includes(state)) return state;
          yield* sleep(RETRY_PAUSE_MS);
        }
        return state;
      }

      function* waitStopped(instanceId: string): Flow<void> {
        yield* waitFor(instanceId, ['Stopped', 'Failed']);
      }

      function* start(instanceId: string): Flow<void> {
        for (let round = 0; round < START_ROUNDS; round++) {
          const reply = yield* ask(instanceId, 'start');
          if (reply?.type !== 'Ok') return;
          const settled = yield* waitFor(instanceId, ['Running', 'Stopped', 'Failed']);
          if (settled !== 'Stopped' && settled !== 'Failed') return;
        }
      }

      function* script(instance: UserInstance): Flow<void> {
        const instanceId = instance.id;
        yield* request({ type: 'InstanceCreate', instanceId, autoRestartPolicy: instance.autoRestartPolicy });
        if (config.startFirst) yield* start(instanceId);
        const ops = between(env, 'user.ops', 1, config.opsMax);
        for (let i = 0; i < ops; i++) {
          yield* sleep(between(env, 'user.thinkMs', 0, config.thinkMsMax));
          const op = config.ops[env.choose('user.op', config.ops.length)]!;
          if (op === 'start') yield* start(instanceId);
          else if (op === 'stop') yield* ask(instanceId, 'stop');
          else if (op === 'migrate') {
            // Best effort: a migration the instance is in no state for is not tried again.
            const dstSledId = config.sleds[env.choose('user.dstSled', config.sleds.length)]!;
            yield* request({ type: 'InstanceMigrate', instanceId, dstSledId }, ['InvalidRequest', 'NotFound', 'Conflict']);
          } else {
            yield* ask(instanceId, 'stop');
            yield* waitStopped(instanceId);
            yield* start(instanceId);
          }
        }
        if (flip(env, 'user.delete', config.deletePerMille)) {
          yield* ask(instanceId, 'stop');
          yield* waitStopped(instanceId);
          const reply = yield* ask(instanceId, 'delete');
          if (reply?.type === 'Ok') deleted.add(instanceId);
        }
        finished.add(instanceId);
      }

      for (const instance of config.instances) env.spawn(`user ${instance.id}`, script(instance));
      return { lastAsked, deleted, finished, abandoned };
    },
  };
}
