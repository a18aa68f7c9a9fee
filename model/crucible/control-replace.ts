// The control plane's replacements: at a time drawn from a window, ask an upstairs to replace one
// downstairs target with a spare (a region replacement rewriting the VCR), and ask again while it
// is refused as busy (another replacement or repair under way) or unanswered (the upstairs is
// down or its reply lost). A replacement ends when the upstairs says Started, StartedAlready or
// CompletedAlready; C-L3 then expects the new target Active.

import { between, type Env, type NodeId } from '../../ports/index.ts';
import type { ReplaceResult } from './upstairs/replace.ts';
import type { UpstairsReply } from './upstairs/control.ts';

export interface Replacement {
  readonly upstairs: NodeId;
  readonly old: NodeId;
  readonly new: NodeId;
  /** The window the first request is sent in, from the start (it may land before activation). */
  readonly atMsMin: number;
  readonly atMsMax: number;
}

export interface ReplacementStatus {
  readonly replacement: Replacement;
  /** The last answer, null before any. */
  result: ReplaceResult | null;
  attempts: number;
}

export type ReplaceTag = { readonly type: 'Replace'; readonly index: number };

const ACCEPTED: readonly ReplaceResult[] = ['Started', 'StartedAlready', 'CompletedAlready'];

export function isAccepted(result: ReplaceResult | null): boolean {
  return result !== null && ACCEPTED.includes(result);
}

export class Replacer {
  readonly statuses: ReplacementStatus[];
  readonly #env: Env;
  readonly #retryMs: number;
  readonly #attemptsMax: number;
  readonly #byRequest = new Map<string, number>();

  constructor(env: Env, replacements: readonly Replacement[], retryMs: number, attemptsMax: number) {
    this.#env = env;
    this.#retryMs = retryMs;
    this.#attemptsMax = attemptsMax;
    this.statuses = replacements.map((replacement) => ({ replacement, result: null, attempts: 0 }));
    replacements.forEach((r, index) => env.setTimer(between(env, 'control.replaceAtMs', r.atMsMin, r.atMsMax), { type: 'Replace', index } satisfies ReplaceTag));
  }

  onTimer(tag: ReplaceTag): void {
    const status = this.statuses[tag.index]!;
    if (isAccepted(status.result) || status.result === 'Missing' || status.attempts >= this.#attemptsMax) return;
    status.attempts++;
    const requestId = this.#env.mintId('control-replace');
    this.#byRequest.set(requestId, tag.index);
    const r = status.replacement;
    this.#env.send(r.upstairs, { type: 'Replace', requestId, old: r.old, new: r.new });
    this.#env.setTimer(this.#retryMs, tag); // asked again unless answered for good by then
  }

  onReply(reply: Extract<UpstairsReply, { type: 'ReplaceReply' }>): void {
    const index = this.#byRequest.get(reply.requestId);
    if (index === undefined) return;
    const status = this.statuses[index]!;
    if (!isAccepted(status.result)) status.result = reply.result;
  }
}
