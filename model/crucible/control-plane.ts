// What activates upstairs: Nexus (or the Pantry) telling an upstairs to go active at a generation
// (GoActiveWithGen), and asking again, with a new request, when no answer comes in time. Each
// activation in the script may wait for an earlier one to succeed, then a delay: a second upstairs
// activated at a higher generation is how a live-migration target takes the region set over. An
// upstairs that restarts (it says Booted) is activated again at a new generation. Generations are
// fixed when an activation is sent, as Nexus bumps the volume's generation then: never at or
// below one already handed out. A retry keeps its generation unless another activation got a
// higher one meanwhile. Deactivations (a VM stop and start, control-deactivate.ts) and target
// replacements (control-replace.ts) run beside the activations.

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
  return {
    id: config.id,
    initDurable: () => null,
    boot(env: Env): ControlProcess {
      const requests = new Map<string, ActivationRequest>();
      const activated = new Map<NodeId, number>();
      const settled = new Set<number>();
      const started = new Set<number>();
      const script = config.activations.map((a) => ({ ...a }));
      const replacer = new Replacer(env, config.replacements ?? [], 500, 40);
      const deactivator = new Deactivator(env, config.id, config.deactivations ?? [], config.attemptsMax, requests, (upstairs, afterMs) => {
        activated.delete(upstairs);
        script.push({ upstairs, gen: 0, afterMs: 0 });
        env.setTimer(afterMs, { type: 'Activate', index: script.length - 1, attempt: 0 } satisfies Tag);
      });
      let topGen = 0; // the highest generation handed out so far
      let topIndex = -1; // the activation it went to
      const delayOf = (a: Activation): number => (a.afterMsMax === undefined ? a.afterMs : between(env, 'control.activateAfterMs', a.afterMs, a.afterMsMax));
      if (script.length > 0) env.setTimer(delayOf(script[0]!), { type: 'Activate', index: 0, attempt: 0 } satisfies Tag);
      const indexOf = new Map<string, number>();
      let owner: NodeId | null = null;
      const succeeded = (index: number): void => {
        const following = script[index + 1];
        if (following !== undefined && !settled.has(index + 1)) env.setTimer(delayOf(following), { type: 'Activate', index: index + 1, attempt: 0 } satisfies Tag);
      };
      return {
        requests,
        activated,
        script,
        replacements: replacer.statuses,
        onTimer(_env: Env, tag: unknown): void {
          if ((tag as ReplaceTag).type === 'Replace') return replacer.onTimer(tag as ReplaceTag);
          const { index, attempt } = tag as Tag;
          if ((tag as DeactivateTag).type === 'Deactivate') return deactivator.onTimer(tag as DeactivateTag);
          const a = script[index]!;
          if (settled.has(index) || attempt >= config.attemptsMax) return;
          if (attempt === 0 && started.has(index)) return; // already under way
          started.add(index);
          if (attempt === 0 || topIndex !== index) {
            // A first send, or a retry after another activation got a higher generation (Nexus
            // re-reads the volume): never hand out a generation at or below one already given.
            a.gen = Math.max(a.gen, topGen + 1);
            topGen = a.gen;
            topIndex = index;
          }
          const requestId = env.mintId(`${config.id}-activate`);
          requests.set(requestId, { kind: 'activate', upstairs: a.upstairs, gen: a.gen, replies: 0, ok: null, lostInCrash: false });
          indexOf.set(requestId, index);
          env.send(a.upstairs, { type: 'GoActiveWithGen', requestId, gen: a.gen });
          env.setTimer(config.retryMs, { type: 'Activate', index, attempt: attempt + 1 } satisfies Tag);
        },
        onMessage(_env: Env, from: NodeId, message: unknown): void {
          if ((message as { type: string }).type === 'Booted') {
            // Requests the crashed incarnation never answered died with it.
            for (const r of requests.values()) if (r.upstairs === from && r.replies === 0) r.lostInCrash = true;
            const pending = [...started].filter((index) => !settled.has(index) && script[index]!.upstairs === from);
            deactivator.onBooted(from);
            if (from === owner) {
              // The upstairs that last took the region set: again, at a new generation.
              for (const index of pending) settled.add(index);
              activated.delete(from);
              script.push({ upstairs: from, gen: 0, afterMs: 0 });
              env.setTimer(0, { type: 'Activate', index: script.length - 1, attempt: 0 } satisfies Tag);
              return;
            }
            // An activation still under way is asked for again at once, at the generation it was
            // given: the new process has a new session, and the downstairs may still hold the old.
            for (const index of pending) env.setTimer(0, { type: 'Activate', index, attempt: 1 } satisfies Tag);
            return;
          }
          const reply = message as UpstairsReply;
          if (reply.type === 'ReplaceReply') return replacer.onReply(reply);
          if (reply.type === 'DeactivateReply') return deactivator.onReply(reply, from);
          if (reply.type !== 'ActivationReply') return;
          const r = requests.get(reply.requestId);
          if (r === undefined) return;
          r.replies++;
          r.ok = reply.ok;
          const index = indexOf.get(reply.requestId)!;
          if (reply.ok) {
            if (!settled.has(index)) succeeded(index);
            settled.add(index);
            activated.set(from, script[index]!.gen);
            if (script[index]!.gen === Math.max(...activated.values())) owner = from;
          } else if (reply.error === 'GenerationNumberTooLow') {
            // The regions have moved past this generation (an interrupted reconciliation flushes
            // at max_gen): activate again one generation up, as Nexus would by bumping the VCR.
            settled.add(index);
            script.push({ upstairs: from, gen: 0, afterMs: 0 });
            env.setTimer(0, { type: 'Activate', index: script.length - 1, attempt: 0 } satisfies Tag);
          } else if (reply.error !== 'UpstairsActivateInProgress') {
            settled.add(index); // refused for good
            script[index]!.refused = true;
          }
        },
      };
    },
  };
}
