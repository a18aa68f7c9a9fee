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

import { assert, SimAssertionError } from './assert.ts';
import type { ChoiceRecorder } from './choice.ts';
import { DeterminismViolation } from './determinism-guard.ts';
import { EventQueue } from './event-queue.ts';
import { Network, type LinkParams } from './network.ts';
import type { CallResult, Effect, Env, NodeId, NodeSpec, Process, Workflow } from './process.ts';
import { Fingerprint, messageType, type TraceRecord } from './trace.ts';
import { Host, type WorkflowRun } from './host.ts';

type Envelope =
  | { readonly type: 'msg'; readonly payload: unknown }
  | { readonly type: 'req'; readonly rpcId: number; readonly payload: unknown }
  | { readonly type: 'rep'; readonly rpcId: number; readonly payload: unknown };

type SimEvent =
  | { kind: 'deliver'; time: number; seq: number; from: Host; to: Host; fromInc: number; toInc: number; envelope: Envelope }
  | { kind: 'timer'; time: number; seq: number; host: Host; inc: number; tag: unknown }
  | { kind: 'resume'; time: number; seq: number; wf: WorkflowRun; token: number; input: unknown }
  | { kind: 'action'; time: number; seq: number; label: string; run: () => void };

/** What one step did, for the oracle. */
export interface StepRecord {
  readonly index: number;
  readonly timeMs: number;
  readonly kind: SimEvent['kind'];
  readonly node: NodeId;
  readonly from: NodeId | null;
  /** 'msg' | 'req' | 'rep' for deliveries, null otherwise. */
  readonly envelope: Envelope['type'] | null;
  readonly message: unknown;
}

/** Protocol code threw: a finding, reported like a Crucible panic. */
export interface Panic {
  readonly node: NodeId;
  readonly determinism: boolean;
  readonly message: string;
}

export interface FaultRecord {
  readonly kind: 'crash' | 'partition' | 'isolate' | 'link' | 'hold';
  readonly nodes: readonly NodeId[];
  readonly description: string;
  readonly startMs: number;
  endMs: number | null;
}

export interface SendObserver {
  onSend(from: NodeId, to: NodeId, message: unknown, envelope: Envelope['type']): void;
}

export interface SimulatorOptions {
  readonly choices: ChoiceRecorder;
  readonly link?: LinkParams;
  readonly queueCapacity?: number;
  readonly trace?: boolean;
}

const TIMEOUT: CallResult = { ok: false, error: 'timeout' };
const KIND_CODE = { deliver: 1, timer: 2, resume: 3, action: 4 } as const;

export class Simulator {
  readonly network: Network;
  readonly choices: ChoiceRecorder;
  readonly fingerprint = new Fingerprint();
  readonly faultLog: FaultRecord[] = [];
  /** Full trace records, only when tracing was asked for. */
  readonly records: TraceRecord[] | null;
  panic: Panic | null = null;
  steps = 0;

  #now = 0;
  readonly #queue: EventQueue<SimEvent>;
  readonly #ready: SimEvent[] = [];
  readonly #hosts = new Map<NodeId, Host>();
  readonly #held = new Map<string, SimEvent[]>();
  readonly #observers: SendObserver[] = [];
  #rpcIds = 0;
  #workflowIds = 0;
  #ids = 0;

  constructor(options: SimulatorOptions) {
    this.choices = options.choices;
    this.network = new Network(options.link);
    this.#queue = new EventQueue(options.queueCapacity ?? 1_000_000);
    this.records = options.trace === true ? [] : null;
  }

  get now(): number {
    return this.#now;
  }

  // ---- nodes -------------------------------------------------------------------------------

  addNode<D>(spec: NodeSpec<D>): void {
    assert(!this.#hosts.has(spec.id), `node ${spec.id} added twice`);
    const host = new Host(spec as NodeSpec<unknown>, this.#hosts.size);
    this.#hosts.set(spec.id, host);
    this.#boot(host);
  }

  node(id: NodeId): Host {
    const host = this.#hosts.get(id);
    assert(host !== undefined, `no node ${id}`);
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
    this.#record({ event: 'crash', node: id });
  }

  /** Boot a crashed node from its durable state. */
  restart(id: NodeId): void {
    const host = this.node(id);
    if (host.up) return;
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
      this.#queue.push(ev);
    }
  }

  /** End every fault: repair partitions and link faults, release held links, restart nodes. */
  healAll(): void {
    this.network.repairAll();
    for (const f of this.faultLog) if (f.kind !== 'crash' && f.endMs === null) f.endMs = this.#now;
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
    this.#record({ event: 'fault', node: '', text: record.description });
  }

  // ---- scheduling --------------------------------------------------------------------------

  /** Run `fn` as a step of its own `delayMs` from now. */
  at(delayMs: number, label: string, fn: () => void): void {
    assert(delayMs >= 0, `at(${label}): negative delay`);
    this.#queue.push({ kind: 'action', time: this.#now + delayMs, seq: 0, label, run: fn });
  }

  observe(observer: SendObserver): void {
    this.#observers.push(observer);
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
      if (rec !== null) return rec;
    }
    throw new SimAssertionError('a million stale events in a row');
  }

  #next(): SimEvent | undefined {
    const ready = this.#ready;
    if (ready.length === 0) {
      const t = this.#queue.peekTime();
      if (t === Infinity) return undefined;
      assert(t >= this.#now, 'time went backwards');
      this.#now = t;
    }
    while (this.#queue.peekTime() === this.#now) {
      const ev = this.#queue.pop()!;
      if (this.#live(ev)) ready.push(ev);
    }
    if (ready.length === 0) return this.#next();
    const i = ready.length > 1 ? this.choices.choose('sched.next', ready.length) : 0;
    return ready.splice(i, 1)[0];
  }

  #live(ev: SimEvent): boolean {
    switch (ev.kind) {
      case 'deliver':
        return ev.to.up && ev.to.incarnation === ev.toInc && ev.from.incarnation === ev.fromInc;
      case 'timer':
        return ev.host.up && ev.host.incarnation === ev.inc;
      case 'resume':
        return ev.wf.alive && ev.wf.token === ev.token;
      case 'action':
        return true;
    }
  }

  #run(ev: SimEvent): StepRecord | null {
    if (!this.#live(ev)) return null;
    if (ev.kind === 'deliver') {
      const heldKey = `${ev.from.spec.id}>${ev.to.spec.id}`;
      const held = this.#held.size > 0 ? this.#held.get(heldKey) : undefined;
      if (held !== undefined) {
        held.push(ev);
        return null;
      }
      if (this.network.partitioned && this.network.isBlocked(ev.from.spec.id, ev.to.spec.id)) {
        this.#record({ event: 'lost', node: ev.to.spec.id, from: ev.from.spec.id, envelope: ev.envelope.type, message: ev.envelope.payload });
        return null;
      }
    }
    const index = ++this.steps;
    const fp = this.fingerprint;
    fp.fold(KIND_CODE[ev.kind]);
    fp.fold(this.#now);
    fp.fold(this.choices.length);
    fp.fold(this.choices.lastValue);
    switch (ev.kind) {
      case 'deliver': {
        const { from, to, envelope } = ev;
        fp.fold(to.index);
        fp.foldString(messageType(envelope.payload));
        this.#record({ event: 'deliver', node: to.spec.id, from: from.spec.id, envelope: envelope.type, message: envelope.payload });
        this.#deliver(from, to, envelope);
        return { index, timeMs: this.#now, kind: 'deliver', node: to.spec.id, from: from.spec.id, envelope: envelope.type, message: envelope.payload };
      }
      case 'timer': {
        const { host, tag } = ev;
        fp.fold(host.index);
        fp.foldString(messageType(tag));
        this.#record({ event: 'timer', node: host.spec.id, message: tag });
        const process = host.process!;
        if (process.onTimer !== undefined) this.#guarded(host, () => process.onTimer!(host.env!, tag));
        return { index, timeMs: this.#now, kind: 'timer', node: host.spec.id, from: null, envelope: null, message: tag };
      }
      case 'resume': {
        const { wf, input } = ev;
        fp.fold(wf.host.index);
        fp.foldString(wf.name);
        this.#record({ event: 'resume', node: wf.host.spec.id, text: `${wf.name}${input === TIMEOUT ? ' (timeout)' : ''}` });
        if (wf.rpcId !== 0) {
          wf.host.calls.delete(wf.rpcId);
          wf.rpcId = 0;
        }
        this.#advance(wf, input);
        return { index, timeMs: this.#now, kind: 'resume', node: wf.host.spec.id, from: null, envelope: null, message: input };
      }
      case 'action': {
        fp.foldString(ev.label);
        this.#record({ event: 'action', node: '', text: ev.label });
        ev.run();
        return { index, timeMs: this.#now, kind: 'action', node: '', from: null, envelope: null, message: ev.label };
      }
    }
  }

  #deliver(from: Host, to: Host, envelope: Envelope): void {
    const process = to.process!;
    const fromId = from.spec.id;
    switch (envelope.type) {
      case 'msg':
        if (process.onMessage !== undefined) this.#guarded(to, () => process.onMessage!(to.env!, fromId, envelope.payload));
        return;
      case 'req': {
        const handler = process.onRequest;
        if (handler === undefined) {
          this.#protocolPanic(to, `received a call but serves none: ${messageType(envelope.payload)}`);
          return;
        }
        let wf: Workflow | undefined;
        this.#guarded(to, () => {
          wf = handler.call(process, to.env!, fromId, envelope.payload);
        });
        if (wf !== undefined) this.#start(to, `serve ${messageType(envelope.payload)}`, wf, { to: from, rpcId: envelope.rpcId });
        return;
      }
      case 'rep': {
        const wf = to.calls.get(envelope.rpcId);
        if (wf === undefined || !wf.alive || wf.rpcId !== envelope.rpcId) return; // late or duplicate
        to.calls.delete(envelope.rpcId);
        wf.rpcId = 0;
        wf.token++;
        this.#advance(wf, { ok: true, reply: envelope.payload } satisfies CallResult);
        return;
      }
    }
  }

  // ---- workflows ---------------------------------------------------------------------------

  #start(host: Host, name: string, gen: Workflow, replyTo: WorkflowRun['replyTo']): void {
    const wf: WorkflowRun = { id: ++this.#workflowIds, name, host, gen, token: 0, rpcId: 0, replyTo, alive: true };
    host.workflows.add(wf);
    this.#advance(wf, undefined);
  }

  #advance(wf: WorkflowRun, input: unknown): void {
    const host = wf.host;
    let result: IteratorResult<Effect, unknown> | undefined;
    this.#guarded(host, () => {
      result = wf.gen.next(input);
    });
    if (result === undefined) {
      this.#finish(wf);
      return;
    }
    if (result.done === true) {
      this.#finish(wf);
      if (wf.replyTo !== null && host.up) this.#transmit(host, wf.replyTo.to.spec.id, { type: 'rep', rpcId: wf.replyTo.rpcId, payload: result.value });
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
        host.calls.set(rpcId, wf);
        this.#transmit(host, effect.to, { type: 'req', rpcId, payload: effect.request });
        this.#queue.push({ kind: 'resume', time: this.#now + effect.timeoutMs, seq: 0, wf, token, input: TIMEOUT });
        return;
      }
      case 'sleep':
        assert(effect.ms >= 0, `workflow ${wf.name} sleeps a negative time`);
        this.#queue.push({ kind: 'resume', time: this.#now + effect.ms, seq: 0, wf, token, input: undefined });
        return;
      default:
        this.#finish(wf);
        this.#protocolPanic(host, `workflow ${wf.name} yielded something that is not an effect`);
    }
  }

  #finish(wf: WorkflowRun): void {
    wf.alive = false;
    wf.host.workflows.delete(wf);
    if (wf.rpcId !== 0) wf.host.calls.delete(wf.rpcId);
  }

  // ---- internals ---------------------------------------------------------------------------

  #boot(host: Host): void {
    const env = this.#makeEnv(host);
    host.boot(env);
    this.#record({ event: 'boot', node: host.spec.id });
    this.#guarded(host, () => {
      host.process = host.spec.boot(env, host.durable);
    });
    if (host.process === null) host.process = {}; // boot panicked; the run stops at this step
  }

  #makeEnv(host: Host): Env {
    const inc = host.incarnation + 1;
    const sim = this;
    const live = (): void => assert(host.up && host.incarnation === inc, `${host.spec.id}: env used after a crash`);
    return {
      self: host.spec.id,
      now: () => sim.#now,
      send(to, message) {
        live();
        if (!sim.#hosts.has(to)) throw new Error(`send to unknown node ${to}`);
        sim.#transmit(host, to, { type: 'msg', payload: message });
      },
      setTimer(delayMs, tag) {
        live();
        assert(delayMs >= 0, `${host.spec.id}: negative timer`);
        sim.#queue.push({ kind: 'timer', time: sim.#now + delayMs, seq: 0, host, inc, tag });
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
    };
  }

  #transmit(from: Host, toId: NodeId, envelope: Envelope): void {
    const to = this.#hosts.get(toId)!;
    for (const o of this.#observers) o.onSend(from.spec.id, toId, envelope.payload, envelope.type);
    const times = this.network.plan(from.spec.id, toId, this.#now, this.choices);
    if (times.length === 0) {
      this.#record({ event: 'lost', node: toId, from: from.spec.id, envelope: envelope.type, message: envelope.payload });
      return;
    }
    const toInc = to.up ? to.incarnation : -1;
    for (const time of times) {
      this.#queue.push({ kind: 'deliver', time, seq: 0, from, to, fromInc: from.incarnation, toInc, envelope });
    }
  }

  #guarded(host: Host, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      if (error instanceof SimAssertionError) throw error;
      const determinism = error instanceof DeterminismViolation;
      const message = error instanceof Error ? error.message : String(error);
      this.panic ??= { node: host.spec.id, determinism, message };
    }
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

  #record(r: Omit<TraceRecord, 'step' | 'timeMs'>): void {
    if (this.records !== null) this.records.push({ step: this.steps, timeMs: this.#now, ...r });
  }
}

interface CutRecord extends FaultRecord {
  readonly cut: readonly (readonly [NodeId, NodeId])[];
}

function list(x: NodeId | readonly NodeId[]): readonly NodeId[] {
  return typeof x === 'string' ? [x] : x;
}
