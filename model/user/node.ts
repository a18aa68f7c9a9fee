// The user: creates instances, then starts, stops, restarts, reboots and migrates them (and now and then
// deletes one), one request at a time per instance, every choice drawn through the environment. Each
// request goes to a Nexus chosen at random, as a load balancer would send it. Like a careful API
// client it retries a request until it gets a final answer: timeouts, 503 and 409 are tried again
// after a pause (bounded), Ok and 400/404 end the request. It remembers, per instance, the last
// thing it asked for: the oracle holds the system to it.

import { call, sleep, between, flip, type Env, type Flow, type NodeDef, type NodeId, type Process } from '../../ports/index.ts';
import type { AutoRestartPolicy } from '../common/vmm-state.ts';
import type { NexusReply, NexusRequest } from '../nexus/api.ts';
import type { PropolisReply, PropolisRequest } from '../propolis/api.ts';

export interface UserInstance {
  readonly id: string;
  readonly autoRestartPolicy: AutoRestartPolicy;
}

/** What the user may do to an instance; a restart is a stop, a wait and a start. */
export type UserOp = 'start' | 'stop' | 'restart' | 'migrate' | 'reboot';

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
  /** Now and then (per mille) the user changes its mind: a stop within `stopAfterMsMax` of asking for a start (it may land mid-start). */
  readonly changeOfMind?: { readonly perMille: number; readonly stopAfterMsMax: number };
  /**
   * A misbehaving client beside the user: after a start is asked for, now and then (per mille), a
   * Reboot or a migration out sent straight to every Propolis while the VM may still be starting,
   * and sent again every `retryMsMax` or less while a Propolis answers "not yet" (no VM, or a
   * denial), up to `triesMax` times: the client that hammers until it is let through.
   */
  readonly rogue?: { readonly perMille: number; readonly propolis: readonly NodeId[]; readonly delayMsMax: number; readonly retryMsMax: number; readonly triesMax: number };
}

/** 'reboot': a refused reboot after no start, which still set the intent to Running (upstream sets it first). */
export type UserAction = 'start' | 'stop' | 'delete' | 'reboot';

export interface UserProcess extends Process {
  /** The last thing asked for, per instance, from the moment the request is sent. */
  readonly lastAsked: ReadonlyMap<string, UserAction>;
  /** Deletes that Nexus accepted. */
  readonly deleted: ReadonlySet<string>;
  /** Instances whose whole script has run. */
  readonly finished: ReadonlySet<string>;
  /** Requests given up after `attemptsMax` tries. */
  readonly abandoned: readonly string[];
  /** What the misbehaving client sent straight to Propolis. */
}

const RETRY_PAUSE_MS = 200;
/** Polls of the instance while waiting for it to settle. */
const WAIT_POLLS_MAX = 40;
/** Starts of one instance that settled Stopped before the user stops trying. */
const START_ROUNDS = 5;

/** The misbehaving client (UserConfig.rogue): one Reboot or migration, hammered at every Propolis until let through. */
function* rogueClient(env: Env, rogue: NonNullable<UserConfig['rogue']>, timeoutMs: number): Flow<void> {
  yield* sleep(between(env, 'rogue.delayMs', 0, rogue.delayMsMax));
  const migrate = env.choose('rogue.kind', 2) === 1;
  const waiting = new Set(rogue.propolis);
  for (let tries = 0; tries < rogue.triesMax && waiting.size > 0; tries++) {
    if (tries > 0) yield* sleep(between(env, 'rogue.retryMs', 1, rogue.retryMsMax));
    for (const p of [...waiting]) {
      const target = rogue.propolis.find((q) => q !== p) ?? p;
      const request: PropolisRequest = migrate ? { type: 'InstanceMigrateStart', migrationId: env.mintId('rogue-migration'), target } : { type: 'InstanceStatePut', requested: 'Reboot' };
      const r = yield* call<PropolisReply>(p, request, timeoutMs);
      if (!notYet(r.ok ? r.reply : null)) waiting.delete(p);
    }
  }
}

/** What a hammering client tries again: no VM there yet (424), or a denial (403), whatever its reason. */
function notYet(reply: PropolisReply | null): boolean {
  return reply !== null && reply.type === 'Error' && (reply.status === 424 || reply.status === 403);
}

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
          if (r.ok && (r.reply.type !== 'Error' || final.includes(r.reply.code))) return r.reply;
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

      /** The misbehaving client: a Reboot or a migration out, sent to every Propolis (it does not know which runs the VM). */
      function* start(instanceId: string): Flow<void> {
        for (let round = 0; round < START_ROUNDS; round++) {
          const reply = yield* ask(instanceId, 'start');
          if (reply?.type !== 'Ok') return;
          const rogue = config.rogue;
          if (rogue !== undefined && flip(env, 'user.rogue', rogue.perMille)) env.spawn('rogue client', rogueClient(env, rogue, config.timeoutMs));
          const mind = config.changeOfMind;
          if (mind !== undefined && flip(env, 'user.changeOfMind', mind.perMille)) {
            yield* sleep(between(env, 'user.stopAfterMs', 0, mind.stopAfterMsMax));
            yield* ask(instanceId, 'stop');
            return;
          }
          const settled = yield* waitFor(instanceId, ['Running', 'Stopped', 'Failed']);
          if (settled !== 'Stopped' && settled !== 'Failed') return;
        }
      }

      /**
       * Best effort, as a migration: a reboot the instance is in no state for (400) is not tried
       * again. One accepted asks for the instance to run: it counts as a start. One refused has
       * set the intent to Running all the same (instance_reboot sets it before it asks), so a
       * Failed instance may be restarted: after a stop, the user expects either.
       */
      function* reboot(instanceId: string): Flow<void> {
        const reply = yield* request({ type: 'InstanceReboot', instanceId }, ['InvalidRequest', 'NotFound', 'Conflict']);
        if (reply?.type === 'Ok') lastAsked.set(instanceId, 'start');
        else if (reply !== null && lastAsked.get(instanceId) !== 'start') lastAsked.set(instanceId, 'reboot');
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
          else if (op === 'reboot') yield* reboot(instanceId);
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
