// The control plane's deactivations, a VM stop and start: at a time drawn from a window, ask the
// upstairs to deactivate, and ask again every DEACTIVATE_RETRY_MS until it answers ok (it says no
// while not yet Active, or while still deactivating); then have it activated again, a generation
// up, after the deactivation's `reactivateAfterMs`. An upstairs that restarts before answering
// was deactivated the hard way: its re-activation on restart stands for the planned one.

import { between, type Env, type NodeId } from '../../ports/index.ts';
import type { ActivationRequest, Deactivation } from './control-plane.ts';
import type { UpstairsReply } from './upstairs/control.ts';

export type DeactivateTag = { readonly type: 'Deactivate'; readonly index: number; readonly attempt: number };

const DEACTIVATE_RETRY_MS = 500;

export class Deactivator {
  readonly #env: Env;
  readonly #deactivations: readonly Deactivation[];
  readonly #attemptsMax: number;
  readonly #requestPrefix: string;
  /** The control plane's record of every request it sent, activations and deactivations alike. */
  readonly #requests: Map<string, ActivationRequest>;
  readonly #reactivate: (upstairs: NodeId, afterMs: number) => void;
  /** Deactivations answered ok, or overtaken by a restart of their upstairs. */
  readonly #done = new Set<number>();
  readonly #byRequest = new Map<string, number>();

  constructor(
    env: Env,
    controlId: NodeId,
    deactivations: readonly Deactivation[],
    attemptsMax: number,
    requests: Map<string, ActivationRequest>,
    reactivate: (upstairs: NodeId, afterMs: number) => void,
  ) {
    this.#env = env;
    this.#deactivations = deactivations;
    this.#attemptsMax = attemptsMax;
    this.#requestPrefix = `${controlId}-deactivate`;
    this.#requests = requests;
    this.#reactivate = reactivate;
    deactivations.forEach((d, index) => env.setTimer(between(env, 'control.deactivateAtMs', d.atMsMin, d.atMsMax), { type: 'Deactivate', index, attempt: 0 } satisfies DeactivateTag));
  }

  onTimer({ index, attempt }: DeactivateTag): void {
    const d = this.#deactivations[index]!;
    if (this.#done.has(index) || attempt >= this.#attemptsMax) return;
    const requestId = this.#env.mintId(this.#requestPrefix);
    this.#requests.set(requestId, { kind: 'deactivate', upstairs: d.upstairs, gen: -1, replies: 0, ok: null, lostInCrash: false });
    this.#byRequest.set(requestId, index);
    this.#env.send(d.upstairs, { type: 'Deactivate', requestId });
    this.#env.setTimer(DEACTIVATE_RETRY_MS, { type: 'Deactivate', index, attempt: attempt + 1 } satisfies DeactivateTag); // again, unless done by then
  }

  /** `upstairs` restarted: a deactivation already asked of it is done, the hard way. */
  onBooted(upstairs: NodeId): void {
    const asked = new Set(this.#byRequest.values());
    this.#deactivations.forEach((d, index) => {
      if (d.upstairs === upstairs && asked.has(index)) this.#done.add(index);
    });
  }

  onReply(reply: Extract<UpstairsReply, { type: 'DeactivateReply' }>, from: NodeId): void {
    const r = this.#requests.get(reply.requestId);
    const index = this.#byRequest.get(reply.requestId);
    if (r === undefined || index === undefined) return;
    r.replies++;
    r.ok = reply.ok;
    if (!reply.ok || this.#done.has(index)) return; // not Active yet, or still deactivating: asked again
    this.#done.add(index);
    this.#reactivate(from, this.#deactivations[index]!.reactivateAfterMs);
  }
}
