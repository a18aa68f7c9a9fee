// The simulator: one thread, virtual time, every choice from the choice source.
//
// Fault model for nodes: `crash` loses the process (volatile state), its timers, its running
// workflows and every message in flight to or from it (connections reset); the durable state
// object survives untouched. `restart` boots a fresh process from the durable state alone.
// Nothing is delivered to a crashed node. The network's own faults are in network.ts.
//
// A step is one event: a delivery, a timer, a workflow resuming, or a scheduled action. Events
// ready at the same virtual time are ordered by a choice (0 = oldest first), never by accident.
// Errors thrown by protocol code are findings (`panic`), not harness crashes; an engine
// assertion (SimAssertionError) is a harness bug and propagates.

import type { Strategy } from './strategy.ts';
import { assert, fail, SimAssertionError } from './assert.ts';
import type { ChoiceRecorder } from './choice.ts';
import { DeterminismViolation } from './determinism-guard.ts';
import { EventQueue } from './event-queue.ts';
import { Network } from './network.ts';
import { DEFAULT_RUN_CONFIG, type RunConfig } from './run-config.ts';
import { PctSchedule } from './pct.ts';
import { signatureOf, type CoverageMap } from './coverage.ts';
import type { CallResult, Effect, Env, Flow, NodeDef, NodeId } from '../ports/index.ts';
import { Fingerprint, messageType, type TraceRecord } from './trace.ts';
import { EventPool, type SimEvent, type EventKind } from './sim-event.ts';
import { alive, Host, type ReplyTo, type WorkflowRun } from './host.ts';

/** How a message travels: one-way, a call, or a call's reply. */
type Envelope = 'msg' | 'req' | 'rep';

/**
 * What one step did, for the oracle. The simulator reuses one record for every step (a sweep
 * makes millions), so it is valid only until the next step: copy what must be kept.
 */
export interface StepRecord {
  readonly index: number;
  readonly timeMs: number;
  readonly kind: EventKind;
  readonly node: NodeId;
  readonly from: NodeId | null;
  /** 'msg' | 'req' | 'rep' for deliveries, null otherwise. */
  readonly envelope: Envelope | null;
  readonly message: unknown;
}

type MutableStep = { -readonly [K in keyof StepRecord]: StepRecord[K] };

/** Protocol code threw: a finding, reported like a Crucible panic. */
export interface Panic {
  readonly node: NodeId;
  readonly determinism: boolean;
  readonly message: string;
}

export interface FaultRecord {
  readonly kind: 'crash' | 'kill' | 'partition' | 'isolate' | 'link' | 'hold' | 'signal';
  readonly nodes: readonly NodeId[];
  readonly description: string;
  readonly startMs: number;
  endMs: number | null;
}

interface SignalRecord extends FaultRecord {
  readonly end: unknown;
}

export interface SendObserver {
  onSend(from: NodeId, to: NodeId, message: unknown, envelope: Envelope): void;
}

export interface SimulatorOptions {
  readonly choices: ChoiceRecorder;
  /** The run's configuration (sim/run-config.ts): limits, network, nemesis, swarm bounds, pct depth. */
  readonly config?: RunConfig;
  readonly queueCapacity?: number;
  readonly trace?: boolean;
  readonly strategy?: Strategy;
  /** Under coverage: where the run's transitions are counted. */
  readonly coverage?: CoverageMap;
}

const TIMEOUT: CallResult<unknown> = { ok: false, error: 'timeout' };
/** The sender of a message from outside the simulated network (Simulator.tell). */
export const OUTSIDE = 'outside';
const KIND_CODE = { deliver: 1, timer: 2, resume: 3, action: 4 } as const;

export class Simulator {
  /** How this run searches (sim/strategy.ts); the nemesis reads it. */
  readonly strategy: Strategy;
  /** The run's configuration; the nemesis and the runner read it. */
  readonly config: RunConfig;
  /** The priorities that order this run under the pct strategy, else null. */
  readonly pct: PctSchedule | null;
  /** The transitions this run reaches, under the coverage strategy; else null. */
  readonly coverage: CoverageMap | null;
  readonly network: Network;
  readonly choices: ChoiceRecorder;
  readonly fingerprint = new Fingerprint();
  readonly faultLog: FaultRecord[] = [];
  /** How often each coverage probe was reached in this run (model code calls `probe(env, name)`). */
  readonly probes = new Map<string, number>();
  /** Full trace records, only when tracing was asked for. */
  readonly records: TraceRecord[] | null;
  panic: Panic | null = null;
  steps = 0;

  #now = 0;
  readonly #queue: EventQueue<SimEvent>;
  readonly #ready: SimEvent[] = [];
  readonly #events = new EventPool();
  readonly #hosts = new Map<NodeId, Host>();
  readonly #held = new Map<string, SimEvent[]>();
  readonly #observers: SendObserver[] = [];
  #rpcIds = 0;
  #ids = 0;
  readonly #step: MutableStep = { index: 0, timeMs: 0, kind: 'action', node: '', from: null, envelope: null, message: null };
  /** Workflow names by request type, so serving a call does not build a string. */
  readonly #serveNames = new Map<string, string>();
  /** Delivery times of the message being sent; reused to spare the allocation per message. */
  readonly #times: number[] = [0, 0];
  #pickingNext = false;
  // Traced runs only: the record of the step running now (-1: setup), the label of that step if
  // it is a scheduled action (faults name it), the send whose network choices are being drawn.
  #current = -1;
  #currentAction: string | null = null;
  #sending = -1;
  #messages = 0;

  constructor(options: SimulatorOptions) {
    this.choices = options.choices;
    this.config = options.config ?? DEFAULT_RUN_CONFIG;
    this.network = new Network(this.config.link);
    this.#queue = new EventQueue(options.queueCapacity ?? 1_000_000);
    this.records = options.trace === true ? [] : null;
    this.strategy = options.strategy ?? 'random';
    this.pct = this.strategy === 'pct' ? new PctSchedule(this.choices, this.config.workloadMs, this.config.pctDepth) : null;
    this.network.pct = this.pct;
    this.coverage = options.coverage ?? null;
    // A traced run says which step and which record each choice shaped, so its trace can show
    // the decisions beside the events: a choice of the next ready event belongs to that event, a
    // delay or a loss to the send it was drawn for, anything else to the step drawing it.
    if (this.records !== null) {
      const records = this.records;
      this.choices.trackSteps(
        () => this.steps + (this.#pickingNext ? 1 : 0),
        () => (this.#pickingNext ? records.length : this.#sending >= 0 ? this.#sending : this.#current),
      );
    }
  }

  get now(): number {
    return this.#now;
  }

  // ---- nodes -------------------------------------------------------------------------------

  addNode<D>(spec: NodeDef<D>): void {
    if (this.#hosts.has(spec.id)) fail(`node ${spec.id} added twice`);
    const host = new Host(spec as NodeDef<unknown>, this.#hosts.size);
    this.#hosts.set(spec.id, host);
    this.pct?.add(spec.id);
    this.#boot(host);
  }

  node(id: NodeId): Host {
    const host = this.#hosts.get(id);
    if (host === undefined) fail(`no node ${id}`);
    return host;
  }

  get nodeIds(): NodeId[] {
    return [...this.#hosts.keys()];
  }

  /** Lose the node's process, timers, workflows and in-flight messages; keep its durable state. */
  crash(id: NodeId): void {
    const host = this.node(id);
    if (!host.up) return;
    host.crash();
    this.faultLog.push({ kind: 'crash', nodes: [id], description: `crash ${id}`, startMs: this.#now, endMs: null });
    this.#recordFault({ event: 'crash', node: id });
  }

  /** The node dies for good: crashed, and no restart or heal brings it back. */
  kill(id: NodeId): void {
    const host = this.node(id);
    if (host.dead) return;
    if (host.up) host.crash();
    host.dead = true;
    this.faultLog.push({ kind: 'kill', nodes: [id], description: `kill ${id}`, startMs: this.#now, endMs: null });
    this.#recordFault({ event: 'crash', node: id, text: 'for good' });
  }

  /**
   * Deliver `message` to `to` from outside the simulated network (an external alert), now, in
   * the current step; lost if the node is down. A throw is a panic finding.
   */
  tell(to: NodeId, message: unknown): void {
    const host = this.node(to);
    if (!host.up || host.process?.onMessage === undefined) {
      if (this.records !== null) this.#record({ event: 'lost', node: to, from: OUTSIDE, envelope: 'msg', message });
      return;
    }
    if (this.records !== null) this.#record({ event: 'deliver', node: to, from: OUTSIDE, envelope: 'msg', message });
    try {
      host.process.onMessage(host.env!, OUTSIDE, message);
    } catch (error) {
      this.#caught(host, error);
    }
  }

  /** Boot a crashed node from its durable state (not one killed for good). */
  restart(id: NodeId): void {
    const host = this.node(id);
    if (host.up || host.dead) return;
    for (const f of this.faultLog) if (f.kind === 'crash' && f.endMs === null && f.nodes[0] === id) f.endMs = this.#now;
    this.#boot(host);
  }

  bounce(id: NodeId): void {
    this.crash(id);
    this.restart(id);
  }

  // ---- network faults (turmoil's vocabulary) -----------------------------------------------

  /** Cut both directions between every node of `a` and every node of `b`. */
  partition(a: NodeId | readonly NodeId[], b: NodeId | readonly NodeId[]): FaultRecord {
    return this.#cut('partition', list(a), list(b), true, `partition ${list(a).join(',')} | ${list(b).join(',')}`);
  }

  partitionOneWay(from: NodeId | readonly NodeId[], to: NodeId | readonly NodeId[]): FaultRecord {
    return this.#cut('partition', list(from), list(to), false, `partition ${list(from).join(',')} -> ${list(to).join(',')}`);
  }

  isolate(id: NodeId): FaultRecord {
    const others = this.nodeIds.filter((n) => n !== id);
    return this.#cut('isolate', [id], others, true, `isolate ${id}`);
  }

  /** Undo one partition or isolation. */
  repair(fault: FaultRecord): void {
    assert(fault.kind === 'partition' || fault.kind === 'isolate', 'repair takes a partition');
    if (fault.endMs !== null) return;
    const cut = (fault as CutRecord).cut;
    for (const [from, to] of cut) this.network.unblock(from, to);
    fault.endMs = this.#now;
    this.#record({ event: 'heal', node: '', text: fault.description });
  }

  /** Hold every message on the link from → to until `release`; they are delivered then, in order. */
  hold(from: NodeId, to: NodeId): void {
    if (!this.#held.has(`${from}>${to}`)) this.#held.set(`${from}>${to}`, []);
  }

  release(from: NodeId, to: NodeId): void {
    const held = this.#held.get(`${from}>${to}`);
    if (held === undefined) return;
    this.#held.delete(`${from}>${to}`);
    for (const ev of held) {
      ev.time = this.#now;
      ev.held = false;
      this.#queue.push(ev);
    }
  }

  // ---- faults a node models itself --------------------------------------------------------

  /**
   * A fault the protocol code models itself (an error injection it offers, as steno's saga
   * SEC does): `start` is told to each of `nodes` now, `end` when the episode ends (`unsignal`,
   * or the heal). Told from outside the network: lost on a node that is down, whose volatile
   * state a restart resets anyway.
   */
  signal(nodes: readonly NodeId[], start: unknown, end: unknown, description: string): FaultRecord {
    assert(nodes.length > 0, 'signal: no nodes');
    const record: SignalRecord = { kind: 'signal', nodes, description, startMs: this.#now, endMs: null, end };
    this.logFault(record);
    for (const node of nodes) this.tell(node, start);
    return record;
  }

  /** End a signalled fault: its `end` message is told to its nodes. */
  unsignal(fault: FaultRecord): void {
    assert(fault.kind === 'signal', 'unsignal takes a signal');
    if (fault.endMs !== null) return;
    fault.endMs = this.#now;
    this.#record({ event: 'heal', node: '', text: fault.description });
    for (const node of fault.nodes) this.tell(node, (fault as SignalRecord).end);
  }

  /** End every fault: repair partitions and link faults, end signals, release held links, restart nodes. */
  healAll(): void {
    this.#current = -1; // between steps: the heal is no step's doing
    this.#currentAction = null;
    this.network.repairAll();
    for (const f of this.faultLog) if (f.kind === 'signal' && f.endMs === null) this.unsignal(f);
    for (const f of this.faultLog) if (f.kind !== 'crash' && f.kind !== 'kill' && f.endMs === null) f.endMs = this.#now;
    for (const key of [...this.#held.keys()]) {
      const [from, to] = key.split('>') as [string, string];
      this.release(from, to);
    }
    for (const host of this.#hosts.values()) if (!host.up) this.restart(host.spec.id);
    this.#record({ event: 'heal', node: '', text: 'all faults' });
  }

  /** Log a fault that a caller applies itself (a link fault from the nemesis). */
  logFault(record: FaultRecord): void {
    this.faultLog.push(record);
    this.#recordFault({ event: 'fault', node: '', text: record.description });
  }

  // ---- scheduling --------------------------------------------------------------------------

  /** Run `fn` as a step of its own `delayMs` from now. */
  at(delayMs: number, label: string, fn: () => void): void {
    if (delayMs < 0) fail(`at(${label}): negative delay`);
    const ev = this.#events.make('action', this.#now + delayMs, null, null, 0, 0, fn, null, 0, label);
    if (this.records !== null) ev.cause = this.#current;
    this.#queue.push(ev);
  }

  observe(observer: SendObserver): void {
    this.#observers.push(observer);
  }

  /** Events ever scheduled, stale ones (cancelled timeouts, dead incarnations) included. */
  get queuePushes(): number {
    return this.#queue.pushes;
  }

  /** Virtual time of the next event, Infinity if nothing is pending. */
  nextTime(): number {
    return this.#ready.length > 0 ? this.#now : this.#queue.peekTime();
  }

  /** Run one event. Returns what it did, or null if nothing is pending. */
  step(): StepRecord | null {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const ev = this.#next();
      if (ev === undefined) return null;
      const rec = this.#run(ev);
      this.#events.recycle(ev);
      if (rec !== null) return rec;
    }
    throw new SimAssertionError('a million stale events in a row');
  }

  #next(): SimEvent | undefined {
    const ready = this.#ready;
    const queue = this.#queue;
    while (ready.length === 0) {
      const t = queue.peekTime();
      if (t === Infinity) return undefined;
      assert(t >= this.#now, 'time went backwards');
      this.#now = t;
      const ev = queue.pop()!;
      // The common case: one event alone at its time, no choice to make.
      if (queue.peekTime() !== t) {
        if (this.#live(ev)) return ev;
        this.#drop(ev);
        continue;
      }
      if (this.#live(ev)) ready.push(ev);
      else this.#drop(ev);
      while (queue.peekTime() === t) {
        const other = queue.pop()!;
        if (this.#live(other)) ready.push(other);
        else this.#drop(other);
      }
    }
    // Events that became ready at this same time since (zero delays) join the choice.
    while (queue.peekTime() === this.#now) {
      const other = queue.pop()!;
      if (this.#live(other)) ready.push(other);
      else this.#drop(other);
    }
    if (ready.length === 1) return ready.pop();
    this.#pickingNext = true;
    const i = this.pct === null ? this.choices.choose('sched.next', ready.length) : this.#highestPriority(ready);
    this.#pickingNext = false;
    const ev = ready[i]!;
    for (let j = i + 1; j < ready.length; j++) ready[j - 1] = ready[j]!;
    ready.length--;
    return ev;
  }

  /**
   * A stale event leaves the queue unrun. A traced run records a message dropped so (its sender or
   * its receiver crashed since it was sent: the connection reset) as lost, so that no send seems
   * to be still in flight.
   */
  #drop(ev: SimEvent): void {
    if (this.records !== null && ev.kind === 'deliver') {
      this.#record({ event: 'lost', node: ev.host!.spec.id, from: ev.from!.spec.id, envelope: ev.label, message: ev.payload, msg: ev.msgId, cause: ev.cause, text: 'a crash reset the connection' });
    }
    this.#events.recycle(ev);
  }

  /** Under pct: the ready event of the highest-priority node; actions first; the oldest on a tie. */
  #highestPriority(ready: readonly SimEvent[]): number {
    let best = 0;
    let bestRank = Infinity;
    for (let i = 0; i < ready.length; i++) {
      const ev = ready[i]!;
      const host = ev.kind === 'resume' ? ev.wf!.host : ev.host;
      const rank = host === null ? -1 : this.pct!.rank(host.spec.id);
      if (rank < bestRank) {
        best = i;
        bestRank = rank;
      }
    }
    return best;
  }

  #live(ev: SimEvent): boolean {
    switch (ev.kind) {
      case 'deliver':
        return ev.host!.up && ev.host!.incarnation === ev.inc && ev.from!.incarnation === ev.fromInc;
      case 'timer':
        return ev.host!.up && ev.host!.incarnation === ev.inc;
      case 'resume':
        return ev.wf!.token === ev.inc && alive(ev.wf!);
      case 'action':
        return true;
    }
  }

  #run(ev: SimEvent): StepRecord | null {
    if (!this.#live(ev)) return null;
    if (ev.kind === 'deliver') {
      const from = ev.from!.spec.id;
      const to = ev.host!.spec.id;
      if (this.#held.size > 0) {
        const held = this.#held.get(`${from}>${to}`);
        if (held !== undefined) {
          ev.held = true;
          held.push(ev);
          return null;
        }
      }
      if (this.network.partitioned && this.network.isBlocked(from, to)) {
        if (this.records !== null) {
          this.#record({ event: 'lost', node: to, from, envelope: ev.label, message: ev.payload, msg: ev.msgId, cause: ev.cause, text: 'partitioned' });
        }
        return null;
      }
    }
    const index = ++this.steps;
    const fp = this.fingerprint;
    fp.fold(KIND_CODE[ev.kind]);
    fp.fold(this.#now);
    fp.fold(this.choices.values.length);
    fp.fold(this.choices.lastValue);
    switch (ev.kind) {
      case 'deliver': {
        const from = ev.from!;
        const to = ev.host!;
        const envelope = ev.label as Envelope;
        fp.fold(to.index);
        fp.foldString(messageType(ev.payload));
        this.coverage?.visit(to.index, signatureOf(ev.payload));
        if (this.records !== null) this.#traceStep({ event: 'deliver', node: to.spec.id, from: from.spec.id, envelope, message: ev.payload, msg: ev.msgId, cause: ev.cause }, null);
        this.#deliver(ev);
        return this.#stepRecord(index, 'deliver', to.spec.id, from.spec.id, envelope, ev.payload);
      }
      case 'timer': {
        const host = ev.host!;
        const tag = ev.payload;
        fp.fold(host.index);
        fp.foldString(messageType(tag));
        this.coverage?.visit(host.index, `timer ${signatureOf(tag)}`);
        if (this.records !== null) this.#traceStep({ event: 'timer', node: host.spec.id, message: tag, cause: ev.cause }, null);
        const process = host.process!;
        if (process.onTimer !== undefined) {
          try {
            process.onTimer(host.env!, tag);
          } catch (error) {
            this.#caught(host, error);
          }
        }
        return this.#stepRecord(index, 'timer', host.spec.id, null, null, tag);
      }
      case 'resume': {
        const wf = ev.wf!;
        const input = ev.payload;
        fp.fold(wf.host.index);
        fp.foldString(wf.name);
        this.coverage?.visit(wf.host.index, input === TIMEOUT ? `${wf.name} timeout` : wf.name);
        if (this.records !== null) this.#traceStep({ event: 'resume', node: wf.host.spec.id, text: `${wf.name}${input === TIMEOUT ? ' (timeout)' : ''}`, cause: ev.cause }, null);
        wf.rpcId = 0;
        this.#advance(wf, input);
        return this.#stepRecord(index, 'resume', wf.host.spec.id, null, null, input);
      }
      case 'action': {
        fp.foldString(ev.label);
        this.coverage?.visit(-1, ev.label);
        if (this.records !== null) this.#traceStep({ event: 'action', node: '', text: ev.label, cause: ev.cause }, ev.label);
        (ev.payload as () => void)();
        return this.#stepRecord(index, 'action', '', null, null, ev.label);
      }
    }
  }

  #stepRecord(index: number, kind: EventKind, node: NodeId, from: NodeId | null, envelope: Envelope | null, message: unknown): StepRecord {
    const r = this.#step;
    r.index = index;
    r.timeMs = this.#now;
    r.kind = kind;
    r.node = node;
    r.from = from;
    r.envelope = envelope;
    r.message = message;
    return r;
  }

  #deliver(ev: SimEvent): void {
    const from = ev.from!;
    const to = ev.host!;
    const process = to.process!;
    const fromId = from.spec.id;
    const payload = ev.payload;
    switch (ev.label as Envelope) {
      case 'msg':
        if (process.onMessage !== undefined) {
          try {
            process.onMessage(to.env!, fromId, payload);
          } catch (error) {
            this.#caught(to, error);
          }
        }
        return;
      case 'req': {
        if (process.onCall !== undefined) {
          // A synchronous server: the reply goes out in this same step, no workflow needed.
          let reply: unknown;
          try {
            reply = process.onCall(to.env!, fromId, payload);
          } catch (error) {
            this.#caught(to, error);
            return;
          }
          // undefined: declined, to be served by a workflow (onRequest) instead.
          if (reply !== undefined || process.onRequest === undefined) {
            if (to.up) this.#transmit(to, fromId, 'rep', ev.rpcId, ev.wf, reply);
            return;
          }
        }
        const handler = process.onRequest;
        if (handler === undefined) {
          this.#protocolPanic(to, `received a call but serves none: ${messageType(payload)}`);
          return;
        }
        let wf: Flow<unknown>;
        try {
          wf = handler.call(process, to.env!, fromId, payload);
        } catch (error) {
          this.#caught(to, error);
          return;
        }
        this.#start(to, this.#serveName(payload), wf, { to: from, rpcId: ev.rpcId, caller: ev.wf! });
        return;
      }
      case 'rep': {
        const wf = ev.wf!;
        if (wf.rpcId !== ev.rpcId || !alive(wf)) return; // late or duplicate
        wf.rpcId = 0;
        wf.token++;
        this.#advance(wf, { ok: true, reply: payload } satisfies CallResult<unknown>);
        return;
      }
    }
  }

  #reply(host: Host, replyTo: ReplyTo, payload: unknown): void {
    if (host.up) this.#transmit(host, replyTo.to.spec.id, 'rep', replyTo.rpcId, replyTo.caller, payload);
  }

  // ---- workflows ---------------------------------------------------------------------------

  #serveName(request: unknown): string {
    const type = messageType(request);
    let name = this.#serveNames.get(type);
    if (name === undefined) this.#serveNames.set(type, (name = `serve ${type}`));
    return name;
  }

  #start(host: Host, name: string, gen: Flow<unknown>, replyTo: ReplyTo | null): void {
    const wf: WorkflowRun = { name, host, inc: host.incarnation, gen, token: 0, rpcId: 0, replyTo, done: false };
    this.#advance(wf, undefined);
  }

  #advance(wf: WorkflowRun, input: unknown): void {
    const host = wf.host;
    let result: IteratorResult<Effect, unknown>;
    try {
      result = wf.gen.next(input);
    } catch (error) {
      this.#finish(wf);
      this.#caught(host, error);
      return;
    }
    if (result.done === true) {
      this.#finish(wf);
      if (wf.replyTo !== null) this.#reply(host, wf.replyTo, result.value);
      return;
    }
    const effect = result.value;
    const token = ++wf.token;
    switch (effect?.kind) {
      case 'call': {
        const to = this.#hosts.get(effect.to);
        if (to === undefined || !(effect.timeoutMs > 0)) {
          this.#finish(wf);
          this.#protocolPanic(host, `bad call from workflow ${wf.name}: to ${effect.to}, timeout ${effect.timeoutMs}`);
          return;
        }
        const rpcId = ++this.#rpcIds;
        wf.rpcId = rpcId;
        this.#transmit(host, effect.to, 'req', rpcId, wf, effect.request);
        this.#schedule(this.#events.make('resume', this.#now + effect.timeoutMs, host, null, token, 0, TIMEOUT, wf, 0, ''));
        return;
      }
      case 'sleep':
        if (effect.ms < 0) fail(`workflow ${wf.name} sleeps a negative time`);
        this.#schedule(this.#events.make('resume', this.#now + effect.ms, host, null, token, 0, undefined, wf, 0, ''));
        return;
      default:
        this.#finish(wf);
        this.#protocolPanic(host, `workflow ${wf.name} yielded something that is not an effect`);
    }
  }

  #finish(wf: WorkflowRun): void {
    wf.done = true;
    wf.rpcId = 0;
  }

  // ---- internals ---------------------------------------------------------------------------

  #boot(host: Host): void {
    const env = this.#makeEnv(host);
    host.boot(env);
    this.#record({ event: host.incarnation > 1 ? 'restart' : 'boot', node: host.spec.id, cause: this.#current });
    try {
      host.process = host.spec.boot(env, host.durable);
    } catch (error) {
      this.#caught(host, error);
    }
    if (host.process === null) host.process = {}; // boot panicked; the run stops at this step
  }

  #makeEnv(host: Host): Env {
    const inc = host.incarnation + 1;
    const sim = this;
    const live = (): void => {
      if (!host.up || host.incarnation !== inc) fail(`${host.spec.id}: env used after a crash`);
    };
    return {
      self: host.spec.id,
      now: () => sim.#now,
      send(to, message) {
        live();
        if (!sim.#hosts.has(to)) throw new Error(`send to unknown node ${to}`);
        sim.#transmit(host, to, 'msg', 0, null, message);
      },
      setTimer(delayMs, tag) {
        live();
        if (delayMs < 0) fail(`${host.spec.id}: negative timer`);
        sim.#schedule(sim.#events.make('timer', sim.#now + delayMs, host, null, inc, 0, tag, null, 0, ''));
      },
      spawn(name, workflow) {
        live();
        sim.#start(host, name, workflow, null);
      },
      choose: (label, n) => sim.choices.choose(label, n),
      mintId: (prefix) => `${prefix}-${++sim.#ids}`,
      log(text) {
        sim.#record({ event: 'log', node: host.spec.id, text });
      },
      probe(name) {
        sim.probes.set(name, (sim.probes.get(name) ?? 0) + 1);
      },
    };
  }

  #transmit(from: Host, toId: NodeId, envelope: Envelope, rpcId: number, caller: WorkflowRun | null, payload: unknown): void {
    const to = this.#hosts.get(toId)!;
    const observers = this.#observers;
    for (let i = 0; i < observers.length; i++) observers[i]!.onSend(from.spec.id, toId, payload, envelope);
    const times = this.#times;
    const traced = this.records !== null;
    const msg = traced ? ++this.#messages : 0;
    if (traced) this.#sending = this.#record({ event: 'send', node: from.spec.id, to: toId, envelope, message: payload, msg, cause: this.#current });
    const copies = this.network.plan(from.spec.id, toId, this.#now, this.choices, times);
    const sent = this.#sending;
    this.#sending = -1;
    if (copies === 0) {
      if (traced) this.#record({ event: 'lost', node: toId, from: from.spec.id, envelope, message: payload, msg, cause: sent, text: 'dropped by the network' });
      return;
    }
    const toInc = to.up ? to.incarnation : -1;
    for (let c = 0; c < copies; c++) {
      const ev = this.#events.make('deliver', times[c]!, to, from, toInc, from.incarnation, payload, caller, rpcId, envelope);
      ev.msgId = msg;
      ev.cause = sent;
      this.#queue.push(ev);
    }
  }

  /** Queue a timer or a workflow's resumption; a traced run notes the step that scheduled it. */
  #schedule(ev: SimEvent): void {
    if (this.records !== null) ev.cause = this.#current;
    this.#queue.push(ev);
  }

  /** What protocol code threw becomes the run's finding; an engine assertion propagates. */
  #caught(host: Host, error: unknown): void {
    if (error instanceof SimAssertionError) throw error;
    const determinism = error instanceof DeterminismViolation;
    const message = error instanceof Error ? error.message : String(error);
    this.panic ??= { node: host.spec.id, determinism, message };
  }

  #protocolPanic(host: Host, message: string): void {
    this.panic ??= { node: host.spec.id, determinism: false, message };
  }

  #cut(kind: 'partition' | 'isolate', a: readonly NodeId[], b: readonly NodeId[], both: boolean, description: string): FaultRecord {
    const cut: [NodeId, NodeId][] = [];
    for (const x of a) {
      for (const y of b) {
        if (x === y) continue;
        cut.push([x, y]);
        if (both) cut.push([y, x]);
      }
    }
    for (const [from, to] of cut) this.network.block(from, to);
    const record: CutRecord = { kind, nodes: [...a, ...b], description, startMs: this.#now, endMs: null, cut };
    this.logFault(record);
    return record;
  }

  /** Append a trace record (traced runs only); returns its index, -1 when not tracing. */
  #record(r: Omit<TraceRecord, 'step' | 'timeMs'>): number {
    if (this.records === null) return -1;
    this.records.push({ step: this.steps, timeMs: this.#now, ...r });
    return this.records.length - 1;
  }

  /** The record of a step's own event: what the step's sends, logs and timers point back to. */
  #traceStep(r: Omit<TraceRecord, 'step' | 'timeMs'>, action: string | null): void {
    this.#current = this.#record(r);
    this.#currentAction = action;
  }

  /** A fault names the scheduled action that injected it (the nemesis, a script's step). */
  #recordFault(r: Omit<TraceRecord, 'step' | 'timeMs' | 'by'>): void {
    if (this.records === null) return;
    const action = this.#currentAction;
    this.#record(action === null || action.startsWith('end ') ? { ...r, cause: this.#current } : { ...r, cause: this.#current, by: action });
  }
}

interface CutRecord extends FaultRecord {
  readonly cut: readonly (readonly [NodeId, NodeId])[];
}

function list(x: NodeId | readonly NodeId[]): readonly NodeId[] {
  return typeof x === 'string' ? [x] : x;
}
