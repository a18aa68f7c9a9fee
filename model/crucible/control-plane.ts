// What activates upstairs: Nexus (or the Pantry) telling an upstairs to go active at a generation
// (GoActiveWithGen), and asking again, with a new request, when no answer comes in time. Each
// activation in the script may wait for an earlier one to succeed, then a delay: a second upstairs
// activated at a higher generation is how a live-migration target takes the region set over. An
// upstairs that restarts (it says Booted) is activated again at a new generation. Generations are
// fixed when an activation is sent, as Nexus bumps the volume's generation then: never at or
// below one already handed out. A retry keeps its generation unless another activation got a
// higher one meanwhile. Deactivations (a VM stop and start, control-deactivate.ts) and target
// replacements (control-replace.ts) run beside the activations.
//
// Fault model: the control plane is Nexus's stand-in in the Crucible scenarios and does not
// crash, so everything it holds (the script, the generations handed out, every request) lives
// through the run. Its messages to an upstairs and the replies may be lost, late or reordered
// (its links are not one connection): it asks again after `retryMs`, up to `attemptsMax` times,
// each time with a new request id; a reply to an old request still counts, and a reply twice
// only counts again (`replies`). An upstairs may crash and come back (it says Booted): its
// unanswered requests died with it, and it is asked again, at a new generation if it owned the
// region set. A reply from a node other than the one asked is a bug in the model (asserted).

import { panic, panicUnless } from '../assert.ts';
import { between, type Env, type NodeDef, type NodeId, type Process } from '../../ports/index.ts';
import { Deactivator, type DeactivateTag } from './control-deactivate.ts';
import { Replacer, type Replacement, type ReplacementStatus, type ReplaceTag } from './control-replace.ts';
import type { UpstairsReply } from './upstairs/control.ts';

export interface Activation {
  readonly upstairs: NodeId;
  /** The generation wanted; raised at first send above any generation already handed out. */
  gen: number;
  /** Delay after the previous activation succeeded (or after the start, for the first). */
  readonly afterMs: number;
  /** If set, the delay is drawn in [afterMs, afterMsMax] (afterMs the simplest). */
  readonly afterMsMax?: number;
  /** Set when the upstairs refused it for good (e.g. GenerationNumberInvalid while stuck in
   *  GoActive at a generation another upstairs has since passed). */
  refused?: boolean;
}

export interface ControlConfig {
  readonly id: NodeId;
  readonly activations: readonly Activation[];
  readonly retryMs: number;
  readonly attemptsMax: number;
  readonly replacements?: readonly Replacement[];
  /** A VM stop and start: deactivate in the window, then activate again (a generation up). */
  readonly deactivations?: readonly Deactivation[];
}

export interface Deactivation {
  readonly upstairs: NodeId;
  readonly atMsMin: number;
  readonly atMsMax: number;
  readonly reactivateAfterMs: number;
}

export interface ControlProcess extends Process {
  /** Every activation request sent: its upstairs, how many replies it got, and whether the
   *  upstairs restarted before answering (the caller saw the connection drop instead). */
  readonly requests: ReadonlyMap<string, ActivationRequest>;
  /** Upstairs whose activation was answered ok, with the generation. */
  readonly activated: ReadonlyMap<NodeId, number>;
  /** Activations the script (and restarts) asked for, in order. */
  readonly script: readonly Activation[];
  readonly replacements: readonly ReplacementStatus[];
}

export interface ActivationRequest {
  readonly kind: 'activate' | 'deactivate';
  readonly upstairs: NodeId;
  /** The generation asked for; -1 for a deactivation. */
  readonly gen: number;
  replies: number;
  ok: boolean | null;
  lostInCrash: boolean;
}

type Tag = { readonly type: 'Activate'; readonly index: number; readonly attempt: number };

export function controlPlane(config: ControlConfig): NodeDef<null> {
  return { id: config.id, initDurable: () => null, boot: (env): ControlProcess => new ControlPlane(env, config) };
}

/** The control plane's process: the activation script, its requests and replies, and the deactivations and replacements beside them. */
class ControlPlane implements ControlProcess {
  readonly requests = new Map<string, ActivationRequest>();
  readonly activated = new Map<NodeId, number>();
  readonly script: Activation[];
  readonly replacements: readonly ReplacementStatus[];
  readonly #env: Env;
  readonly #config: ControlConfig;
  /** Activations answered for good (ok, or refused). */
  readonly #settled = new Set<number>();
  readonly #started = new Set<number>();
  readonly #replacer: Replacer;
  readonly #deactivator: Deactivator;
  /** The highest generation handed out so far, and the activation it went to. */
  #topGen = 0;
  #topIndex = -1;
  readonly #indexOf = new Map<string, number>();
  /** The upstairs that last took the region set (the highest generation activated). */
  #owner: NodeId | null = null;

  constructor(env: Env, config: ControlConfig) {
    this.#env = env;
    this.#config = config;
    this.script = config.activations.map((a) => ({ ...a }));
    this.#replacer = new Replacer(env, config.replacements ?? [], 500, 40);
    this.replacements = this.#replacer.statuses;
    this.#deactivator = new Deactivator(env, config.id, config.deactivations ?? [], config.attemptsMax, this.requests, (upstairs, afterMs) => {
      this.activated.delete(upstairs);
      this.#activateAgain(upstairs, afterMs);
    });
    if (this.script.length > 0) env.setTimer(this.#delayOf(this.script[0]!), { type: 'Activate', index: 0, attempt: 0 } satisfies Tag);
  }

  #delayOf(a: Activation): number {
    return a.afterMsMax === undefined ? a.afterMs : between(this.#env, 'control.activateAfterMs', a.afterMs, a.afterMsMax);
  }

  /** A new activation of `upstairs` at the end of the script (a generation up, fixed when it is sent). */
  #activateAgain(upstairs: NodeId, afterMs: number): void {
    if (!(afterMs >= 0)) panic(`control: an activation of ${upstairs} ${afterMs} ms in the past`);
    this.script.push({ upstairs, gen: 0, afterMs: 0 });
    this.#env.setTimer(afterMs, { type: 'Activate', index: this.script.length - 1, attempt: 0 } satisfies Tag);
  }

  #succeeded(index: number): void {
    if (!(this.#started.has(index) && !this.#settled.has(index))) panic(`control: activation ${index} succeeded twice, or before it was sent`);
    const following = this.script[index + 1];
    if (following !== undefined && !this.#settled.has(index + 1)) this.#env.setTimer(this.#delayOf(following), { type: 'Activate', index: index + 1, attempt: 0 } satisfies Tag);
  }

  onTimer(_env: Env, tag: unknown): void {
    if ((tag as ReplaceTag).type === 'Replace') return this.#replacer.onTimer(tag as ReplaceTag);
    if ((tag as DeactivateTag).type === 'Deactivate') return this.#deactivator.onTimer(tag as DeactivateTag);
    this.#activate(tag as Tag);
  }

  /** Send an activation (or a retry of it), at a generation never at or below one already handed out. */
  #activate({ index, attempt }: Tag): void {
    const a = this.script[index]!;
    if (a === undefined) panic(`control: no activation ${index} in the script`);
    if (this.#settled.has(index) || attempt >= this.#config.attemptsMax) return;
    if (attempt === 0 && this.#started.has(index)) return; // already under way
    if (!(attempt === 0 || this.#started.has(index))) panic(`control: a retry of activation ${index}, never sent`);
    const topGenBefore = this.#topGen;
    this.#started.add(index);
    if (attempt === 0 || this.#topIndex !== index) {
      // A first send, or a retry after another activation got a higher generation (Nexus
      // re-reads the volume): never hand out a generation at or below one already given.
      a.gen = Math.max(a.gen, this.#topGen + 1);
      this.#topGen = a.gen;
      this.#topIndex = index;
    }
    panicUnless(a.gen >= 1 && a.gen <= this.#topGen, 'control: an activation sent at a generation not handed out');
    panicUnless(this.#topGen >= topGenBefore && this.script[this.#topIndex] !== undefined, 'control: the highest generation handed out went down');
    const requestId = this.#env.mintId(`${this.#config.id}-activate`);
    if (this.requests.has(requestId)) panic(`control: request id ${requestId} reused`);
    this.requests.set(requestId, { kind: 'activate', upstairs: a.upstairs, gen: a.gen, replies: 0, ok: null, lostInCrash: false });
    this.#indexOf.set(requestId, index);
    this.#env.send(a.upstairs, { type: 'GoActiveWithGen', requestId, gen: a.gen });
    this.#env.setTimer(this.#config.retryMs, { type: 'Activate', index, attempt: attempt + 1 } satisfies Tag);
  }

  onMessage(_env: Env, from: NodeId, message: unknown): void {
    if ((message as { type: string }).type === 'Booted') return this.#onBooted(from);
    const reply = message as UpstairsReply;
    if (reply.type === 'ReplaceReply') return this.#replacer.onReply(reply);
    if (reply.type === 'DeactivateReply') return this.#deactivator.onReply(reply, from);
    if (reply.type === 'ActivationReply') this.#onActivationReply(from, reply);
  }

  /** An upstairs restarted: what its crashed incarnation never answered died with it. */
  #onBooted(from: NodeId): void {
    for (const r of this.requests.values()) if (r.upstairs === from && r.replies === 0) r.lostInCrash = true;
    const pending = [...this.#started].filter((index) => !this.#settled.has(index) && this.script[index]!.upstairs === from);
    this.#deactivator.onBooted(from);
    if (from === this.#owner) {
      // The upstairs that last took the region set: again, at a new generation.
      for (const index of pending) this.#settled.add(index);
      this.activated.delete(from);
      this.#activateAgain(from, 0);
      panicUnless(!this.activated.has(from) && this.script.at(-1)!.upstairs === from, 'control: a restarted owner still counted as activated');
      return;
    }
    // An activation still under way is asked for again at once, at the generation it was
    // given: the new process has a new session, and the downstairs may still hold the old.
    for (const index of pending) this.#env.setTimer(0, { type: 'Activate', index, attempt: 1 } satisfies Tag);
  }

  #onActivationReply(from: NodeId, reply: Extract<UpstairsReply, { type: 'ActivationReply' }>): void {
    const r = this.requests.get(reply.requestId);
    if (r === undefined) return;
    if (!(r.kind === 'activate' && r.upstairs === from)) panic(`control: activation reply ${reply.requestId} from ${from}, not from the upstairs it was sent to`);
    r.replies++;
    r.ok = reply.ok;
    const index = this.#indexOf.get(reply.requestId)!;
    const a = this.script[index];
    // A retry may have raised the activation's generation since this request went out, never lowered it.
    if (a === undefined || a.upstairs !== from || a.gen < r.gen) panic(`control: activation reply ${reply.requestId} for activation ${index}, sent at ${r.gen}, not what the script holds`);
    const gen = a.gen;
    if (reply.ok) {
      if (!this.#settled.has(index)) this.#succeeded(index);
      this.#settled.add(index);
      this.activated.set(from, gen);
      if (gen === Math.max(...this.activated.values())) this.#owner = from;
      panicUnless(this.activated.get(from) === gen && this.#settled.has(index), 'control: an activation answered ok and not recorded');
    } else if (reply.error === 'GenerationNumberTooLow') {
      // The regions have moved past this generation (an interrupted reconciliation flushes
      // at max_gen): activate again one generation up, as Nexus would by bumping the VCR.
      this.#settled.add(index);
      this.#activateAgain(from, 0);
    } else if (reply.error !== 'UpstairsActivateInProgress') {
      this.#settled.add(index); // refused for good
      this.script[index]!.refused = true;
    }
  }
}
