// The user: creates instances, then starts, stops, restarts, reboots and migrates them (and now and then
// deletes one), one request at a time per instance, every choice drawn through the environment. Each
// request goes to a Nexus chosen at random, as a load balancer would send it. Like a careful API
// client it retries a request until it gets a final answer: timeouts, 503 and 409 are tried again
// after a pause (bounded), Ok and 400/404 end the request. It remembers, per instance, the last
// thing it asked for: the oracle holds the system to it.
//
// Fault model: the user sits outside the rack and never crashes, so what it remembers lives
// through the run (it has no durable state, and needs none). Its requests and Nexus's answers
// may be lost, late, duplicated or reordered: a lost or late answer is a timeout, and the
// request is tried again at another Nexus, so a request may take effect twice, as a real
// client's retry does; a duplicated answer, or one after the timeout, is dropped by the RPC
// layer. A Nexus may crash mid-request (a timeout again: the saga it started may still run),
// be cut off from the sleds, or answer 503 while it is cut off from the database. Each
// instance's script runs on its own, one request at a time. What the user remembers is what it
// asked for, not what happened: the oracle holds the system to the last thing asked.

import { panic, panicUnless } from '../assert.ts';
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
  panicUnless(rogue.propolis.length > 0, 'rogue client: no Propolis to hammer');
  yield* sleep(between(env, 'rogue.delayMs', 0, rogue.delayMsMax));
  const migrate = env.choose('rogue.kind', 2) === 1;
  const waiting = new Set(rogue.propolis);
  for (let tries = 0; tries < rogue.triesMax && waiting.size > 0; tries++) {
    if (tries > 0) yield* sleep(between(env, 'rogue.retryMs', 1, rogue.retryMsMax));
    for (const p of [...waiting]) {
      const target = rogue.propolis.find((q) => q !== p) ?? p;
      if (!(target !== p || rogue.propolis.length === 1)) panic(`rogue client: a migration of ${p} to itself`);
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
  return { id: config.id, initDurable: () => null, boot: (env): UserProcess => new UserNode(env, config) };
}

/** The user's process: one script per instance, and what it asked for, which the oracle reads. */
class UserNode implements UserProcess {
  readonly lastAsked = new Map<string, UserAction>();
  readonly deleted = new Set<string>();
  readonly finished = new Set<string>();
  readonly abandoned: string[] = [];
  readonly #env: Env;
  readonly #config: UserConfig;

  constructor(env: Env, config: UserConfig) {
    panicUnless(config.nexus.length > 0 && config.ops.length > 0 && config.attemptsMax > 0, 'user: needs a Nexus, operations and attempts');
    panicUnless(new Set(config.instances.map((i) => i.id)).size === config.instances.length, 'user: two instances with one id');
    panicUnless(!config.ops.includes('migrate') || config.sleds.length > 0, 'user: migrations with no sled to migrate to');
    this.#env = env;
    this.#config = config;
    for (const instance of config.instances) env.spawn(`user ${instance.id}`, this.#script(instance));
  }

  /** `final`: error codes that end the request rather than being tried again. */
  *#request(req: NexusRequest, final: readonly string[] = ['InvalidRequest', 'NotFound']): Flow<NexusReply | null> {
    const { nexus, attemptsMax, timeoutMs } = this.#config;
    for (let attempt = 0; attempt < attemptsMax; attempt++) {
      const to = nexus[this.#env.choose('user.nexus', nexus.length)]!;
      const r = yield* call<NexusReply>(to, req, timeoutMs);
      if (r.ok && (r.reply.type !== 'Error' || final.includes(r.reply.code))) return r.reply;
      yield* sleep(RETRY_PAUSE_MS);
    }
    const abandonedBefore = this.abandoned.length;
    this.abandoned.push(`${req.type} ${'instanceId' in req ? req.instanceId : ''}`);
    panicUnless(this.abandoned.length === abandonedBefore + 1, 'user: a request abandoned twice');
    return null;
  }

  *#ask(instanceId: string, action: UserAction): Flow<NexusReply | null> {
    if (this.deleted.has(instanceId)) panic(`user: asked to ${action} ${instanceId} after deleting it`);
    // A reboot goes through #reboot: it sets the intent only once Nexus has answered.
    if (action === 'reboot') panic(`user: a reboot of ${instanceId} asked as a start, stop or delete`);
    if (this.finished.has(instanceId)) panic(`user: asked to ${action} ${instanceId} after its script ended`);
    this.lastAsked.set(instanceId, action);
    const type = action === 'start' ? 'InstanceStart' : action === 'stop' ? 'InstanceStop' : 'InstanceDelete';
    return yield* this.#request({ type, instanceId });
  }

  /** Poll until the instance is in one of `states`; the last state seen. */
  *#waitFor(instanceId: string, states: readonly string[]): Flow<string | null> {
    if (!(states.length > 0 && this.lastAsked.has(instanceId))) panic(`user: waiting on ${instanceId} for nothing, or before asking anything of it`);
    let state: string | null = null;
    for (let i = 0; i < WAIT_POLLS_MAX; i++) {
      const view = yield* this.#request({ type: 'InstanceView', instanceId });
      if (view === null) return null;
      state = view.type === 'Ok' ? view.state : null;
      if (state !== null && states.includes(state)) return state;
      yield* sleep(RETRY_PAUSE_MS);
    }
    return state;
  }

  *#waitStopped(instanceId: string): Flow<void> {
    yield* this.#waitFor(instanceId, ['Stopped', 'Failed']);
  }

  /** Start, and start again (a few rounds) while it settles Stopped; maybe a misbehaving client, maybe a change of mind. */
  *#start(instanceId: string): Flow<void> {
    const env = this.#env;
    for (let round = 0; round < START_ROUNDS; round++) {
      const reply = yield* this.#ask(instanceId, 'start');
      if (reply?.type !== 'Ok') return;
      const { rogue, changeOfMind: mind, timeoutMs } = this.#config;
      // The misbehaving client: a Reboot or a migration out, sent to every Propolis (it does not know which runs the VM).
      if (rogue !== undefined && flip(env, 'user.rogue', rogue.perMille)) env.spawn('rogue client', rogueClient(env, rogue, timeoutMs));
      if (mind !== undefined && flip(env, 'user.changeOfMind', mind.perMille)) {
        yield* sleep(between(env, 'user.stopAfterMs', 0, mind.stopAfterMsMax));
        yield* this.#ask(instanceId, 'stop');
        return;
      }
      const settled = yield* this.#waitFor(instanceId, ['Running', 'Stopped', 'Failed']);
      if (settled !== 'Stopped' && settled !== 'Failed') return;
    }
  }

  /**
   * Best effort, as a migration: a reboot the instance is in no state for (400) is not tried
   * again. One accepted asks for the instance to run: it counts as a start. One refused has
   * set the intent to Running all the same (instance_reboot sets it before it asks), so a
   * Failed instance may be restarted: after a stop, the user expects either.
   */
  *#reboot(instanceId: string): Flow<void> {
    if (this.deleted.has(instanceId)) panic(`user: a reboot of ${instanceId} after deleting it`);
    const reply = yield* this.#request({ type: 'InstanceReboot', instanceId }, ['InvalidRequest', 'NotFound', 'Conflict']);
    if (reply?.type === 'Ok') this.lastAsked.set(instanceId, 'start');
    else if (reply !== null && this.lastAsked.get(instanceId) !== 'start') this.lastAsked.set(instanceId, 'reboot');
    if (!(reply?.type !== 'Ok' || this.lastAsked.get(instanceId) === 'start')) panic(`user: a reboot of ${instanceId} accepted, not remembered as a start`);
  }

  /** Best effort: a migration the instance is in no state for is not tried again. */
  *#migrate(instanceId: string): Flow<void> {
    const sleds = this.#config.sleds;
    const dstSledId = sleds[this.#env.choose('user.dstSled', sleds.length)];
    if (dstSledId === undefined || this.deleted.has(instanceId)) panic(`user: a migration of ${instanceId} to no sled, or after deleting it`);
    yield* this.#request({ type: 'InstanceMigrate', instanceId, dstSledId }, ['InvalidRequest', 'NotFound', 'Conflict']);
  }

  *#restart(instanceId: string): Flow<void> {
    yield* this.#ask(instanceId, 'stop');
    yield* this.#waitStopped(instanceId);
    yield* this.#start(instanceId);
  }

  *#op(instanceId: string, op: UserOp): Flow<void> {
    if (op === 'start') yield* this.#start(instanceId);
    else if (op === 'stop') yield* this.#ask(instanceId, 'stop');
    else if (op === 'reboot') yield* this.#reboot(instanceId);
    else if (op === 'migrate') yield* this.#migrate(instanceId);
    else yield* this.#restart(instanceId);
  }

  *#script(instance: UserInstance): Flow<void> {
    const env = this.#env;
    const config = this.#config;
    const instanceId = instance.id;
    if (!(!this.lastAsked.has(instanceId) && !this.finished.has(instanceId))) panic(`user: the script of ${instanceId} started twice`);
    yield* this.#request({ type: 'InstanceCreate', instanceId, autoRestartPolicy: instance.autoRestartPolicy });
    if (config.startFirst) yield* this.#start(instanceId);
    const ops = between(env, 'user.ops', 1, config.opsMax);
    for (let i = 0; i < ops; i++) {
      yield* sleep(between(env, 'user.thinkMs', 0, config.thinkMsMax));
      yield* this.#op(instanceId, config.ops[env.choose('user.op', config.ops.length)]!);
    }
    if (flip(env, 'user.delete', config.deletePerMille)) {
      yield* this.#ask(instanceId, 'stop');
      yield* this.#waitStopped(instanceId);
      const reply = yield* this.#ask(instanceId, 'delete');
      if (reply?.type === 'Ok') this.deleted.add(instanceId);
    }
    if (!(!this.deleted.has(instanceId) || this.lastAsked.get(instanceId) === 'delete')) panic(`user: ${instanceId} deleted, then asked something else`);
    if (this.finished.has(instanceId)) panic(`user: the script of ${instanceId} ran twice`);
    this.finished.add(instanceId);
  }
}
