// A lease protocol: one lease server and clients that take turns holding a lease, the way a
// leader lease or a lock service works. A client asks for the lease (`Acquire`); the server
// grants it for `leaseMs` from the moment it grants, or answers `Busy` with when the current
// lease ends. A client must stop acting as the holder before the server may grant the lease to
// anyone else, so it counts its lease from when it *sent* the request: the server granted at or
// after that moment, so the server's lease outlasts the client's belief.
//
// Planted bug `lease/count-from-reply`: the client counts its lease from when the reply
// *arrived*. A reply that was slow on the network makes the client believe it holds the lease
// after the server's lease ended, while the server grants it to the other client.
//
// Fault model: messages are delayed (the network's delay, and link faults that add up to
// hundreds of ms), lost (a call times out and the client asks again) and the server's reply may
// arrive after the client stopped waiting (ignored); partitions cut a client off; a crash of a
// client loses what it believed (volatile), a crash of the server keeps the grant (durable:
// `holder`, `expiresAtMs`), so a restarted server never grants a lease that is still running.

import { call, panicUnless, probe, sleep, type Bugs, type Env, type Flow, type NodeDef, type Process } from 'stairwell';

export const SERVER = 'lease-server';

export type LeaseRequest = { readonly type: 'Acquire'; readonly client: string };
export type LeaseReply = { readonly type: 'Granted'; readonly leaseMs: number } | { readonly type: 'Busy'; readonly untilMs: number };

/** What the server keeps across a crash. */
export interface ServerDurable {
  holder: string | null;
  expiresAtMs: number;
}

export interface ServerConfig {
  readonly id: string;
  readonly leaseMs: number;
}

/** The lease server: grants the lease to one client at a time. */
export class LeaseServer implements Process {
  readonly #config: ServerConfig;
  readonly #durable: ServerDurable;

  constructor(config: ServerConfig, durable: ServerDurable) {
    this.#config = config;
    this.#durable = durable;
  }

  onCall(env: Env, _from: string, request: unknown): LeaseReply {
    const { client } = request as LeaseRequest;
    panicUnless((request as LeaseRequest).type === 'Acquire', 'the lease server serves Acquire only');
    const now = env.now();
    const lease = this.#durable;
    if (lease.holder !== null && lease.holder !== client && now < lease.expiresAtMs) return { type: 'Busy', untilMs: lease.expiresAtMs };
    if (lease.holder !== null && lease.holder !== client) probe(env, 'lease.taken-over');
    if (lease.holder === client) probe(env, 'lease.renewed');
    const before = lease.expiresAtMs;
    lease.holder = client;
    lease.expiresAtMs = now + this.#config.leaseMs;
    panicUnless(lease.expiresAtMs >= before, 'a grant never ends an earlier lease sooner');
    env.log(`granted the lease to ${client} until ${lease.expiresAtMs}ms`);
    return { type: 'Granted', leaseMs: this.#config.leaseMs };
  }

  inspect(): unknown {
    return { ...this.#durable };
  }
}

export function leaseServer(config: ServerConfig): NodeDef<ServerDurable> {
  return {
    id: config.id,
    initDurable: () => ({ holder: null, expiresAtMs: 0 }),
    boot: (_env, durable) => new LeaseServer(config, durable),
  };
}

export interface ClientConfig {
  readonly id: string;
  readonly server: string;
  readonly timeoutMs: number;
  /** How long a client keeps the lease before it lets it run out, at most. */
  readonly holdMsMax: number;
}

/** A client: asks for the lease, holds it while its own clock says so, then asks again. */
export class LeaseClient implements Process {
  /** Until when this client believes it holds the lease (virtual ms); 0: it does not. */
  holdsUntilMs = 0;
  /** Leases it was granted since it booted. */
  granted = 0;
  readonly #config: ClientConfig;
  readonly #countFromReply: boolean;

  constructor(env: Env, config: ClientConfig, bugs: Bugs) {
    this.#config = config;
    this.#countFromReply = bugs.has('lease/count-from-reply');
    env.spawn('acquire', this.#acquireLoop(env));
  }

  holds(nowMs: number): boolean {
    return nowMs < this.holdsUntilMs;
  }

  *#acquireLoop(env: Env): Flow<void> {
    for (let round = 0; round < 1_000; round++) {
      const sentAtMs = env.now();
      const reply = yield* call<LeaseReply>(this.#config.server, { type: 'Acquire', client: env.self } satisfies LeaseRequest, this.#config.timeoutMs);
      if (!reply.ok) continue; // lost or late: ask again
      if (reply.reply.type === 'Busy') {
        yield* sleep(Math.max(1, reply.reply.untilMs - env.now()));
        continue;
      }
      this.#hold(env, sentAtMs, reply.reply.leaseMs);
      // Hold part of the lease, then let it run out before asking again.
      yield* sleep(Math.max(1, this.holdsUntilMs - env.now()) + env.choose('client.thinkMs', this.#config.holdMsMax));
    }
  }

  #hold(env: Env, sentAtMs: number, leaseMs: number): void {
    const from = this.#countFromReply ? env.now() : sentAtMs;
    panicUnless(from <= env.now(), 'a lease is counted from a moment already past');
    this.holdsUntilMs = from + leaseMs;
    this.granted++;
    env.log(`holds the lease until ${this.holdsUntilMs}ms`);
  }

  inspect(): unknown {
    return { holdsUntilMs: this.holdsUntilMs, granted: this.granted };
  }
}

export function leaseClient(config: ClientConfig, bugs: Bugs): NodeDef<null> {
  return { id: config.id, initDurable: () => null, boot: (env) => new LeaseClient(env, config, bugs) };
}
