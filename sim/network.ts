// The network between nodes. Fault model, per directed link:
// - delay: uniform in [delayMsMin, delayMsMax] virtual ms, drawn per message;
// - reordering: messages on a link are independent unless the link is `fifo`, so a later one
//   can overtake an earlier one; on a fifo link each is due at least 1 ms after the previous
//   one, since the scheduler orders events due at the same time by a choice;
// - loss and duplication: per message, `lossPerMille` / `dupPerMille` out of 1000;
// - partitions: a blocked link drops whatever arrives while it is blocked (messages are checked
//   at delivery, so a partition also catches messages already in flight). Blocks are counted,
//   so overlapping fault episodes compose and each repair undoes only its own block.
// Link faults (extra loss, duplication, delay) are added on top of the base parameters while
// they are active. Crashed endpoints are the simulator's business, not the network's.

import { assert, fail } from './assert.ts';
import { between, flip, type ChoiceSource } from './choice.ts';
import type { PctSchedule } from './pct.ts';
import type { NodeId } from '../ports/index.ts';
import { DEFAULT_RUN_CONFIG, type LinkParams } from './run-config.ts';

export type { LinkParams };

export const DEFAULT_LINK: LinkParams = DEFAULT_RUN_CONFIG.link;

/** Extra trouble on the links it matches while active. '*' matches any node but those excluded. */
export interface LinkFault {
  readonly from: NodeId | '*';
  readonly to: NodeId | '*';
  /** Nodes whose links a '*' does not match (a database reached over one TCP connection, say). */
  readonly exclude?: readonly NodeId[];
  readonly lossPerMille?: number;
  readonly dupPerMille?: number;
  readonly extraDelayMsMax?: number;
}

/** Per directed link values, keyed by both ends: no key string is built per message. */
class LinkTable<T> {
  readonly #rows = new Map<NodeId, Map<NodeId, T>>();
  size = 0;

  get(from: NodeId, to: NodeId): T | undefined {
    return this.#rows.get(from)?.get(to);
  }

  set(from: NodeId, to: NodeId, value: T): void {
    let row = this.#rows.get(from);
    if (row === undefined) this.#rows.set(from, (row = new Map()));
    if (!row.has(to)) this.size++;
    row.set(to, value);
  }

  delete(from: NodeId, to: NodeId): void {
    const row = this.#rows.get(from);
    if (row?.delete(to) === true) this.size--;
  }

  clear(): void {
    this.#rows.clear();
    this.size = 0;
  }
}

export class Network {
  readonly #base: LinkParams;
  readonly #links = new LinkTable<LinkParams>();
  readonly #blocked = new LinkTable<number>();
  readonly #faults: LinkFault[] = [];
  readonly #lastDelivery = new LinkTable<number>();
  /** Under the pct strategy, the receiver's priority picks the slice of the delay range. */
  pct: PctSchedule | null = null;
  readonly #band = [0, 0];

  constructor(base: LinkParams = DEFAULT_LINK) {
    checkParams(base);
    this.#base = base;
  }

  /** Set the parameters of one directed link. */
  configure(from: NodeId, to: NodeId, params: Partial<LinkParams>): void {
    const merged = { ...this.params(from, to), ...params };
    checkParams(merged);
    this.#links.set(from, to, merged);
  }

  params(from: NodeId, to: NodeId): LinkParams {
    return this.#links.size === 0 ? this.#base : (this.#links.get(from, to) ?? this.#base);
  }

  block(from: NodeId, to: NodeId): void {
    this.#blocked.set(from, to, (this.#blocked.get(from, to) ?? 0) + 1);
  }

  unblock(from: NodeId, to: NodeId): void {
    const count = this.#blocked.get(from, to) ?? 0;
    if (count <= 1) this.#blocked.delete(from, to);
    else this.#blocked.set(from, to, count - 1);
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.#blocked.size > 0 && this.#blocked.get(from, to) !== undefined;
  }

  get partitioned(): boolean {
    return this.#blocked.size > 0;
  }

  addFault(fault: LinkFault): void {
    this.#faults.push(fault);
  }

  removeFault(fault: LinkFault): void {
    const i = this.#faults.indexOf(fault);
    assert(i >= 0, 'removing a link fault that is not active');
    this.#faults.splice(i, 1);
  }

  /** Heal: no partitions, no link faults. Base and per-link parameters stay. */
  repairAll(): void {
    this.#blocked.clear();
    this.#faults.length = 0;
  }

  /**
   * Decide what happens to one message sent now: how many copies arrive (0 if it is lost, 2 if
   * it is duplicated) and when, written into `times`. Draws only the choices the link's
   * parameters make possible.
   */
  plan(from: NodeId, to: NodeId, now: number, choices: ChoiceSource, times: number[]): number {
    const p = this.params(from, to);
    let loss = p.lossPerMille;
    let dup = p.dupPerMille;
    let extraMax = 0;
    const faults = this.#faults;
    for (let i = 0; i < faults.length; i++) {
      const f = faults[i]!;
      if (matches(f.from, from, f.exclude) && matches(f.to, to, f.exclude)) {
        loss += f.lossPerMille ?? 0;
        dup += f.dupPerMille ?? 0;
        extraMax += f.extraDelayMsMax ?? 0;
      }
    }
    if (flip(choices, 'net.lose', loss)) return 0;
    const copies = flip(choices, 'net.duplicate', dup) ? 2 : 1;
    let delayMsMin = p.delayMsMin;
    let delayMsMax = p.delayMsMax;
    if (this.pct !== null) {
      this.pct.delayBand(to, delayMsMin, delayMsMax, this.#band);
      delayMsMin = this.#band[0]!;
      delayMsMax = this.#band[1]!;
    }
    for (let c = 0; c < copies; c++) {
      let at = now + between(choices, 'net.delayMs', delayMsMin, delayMsMax);
      if (extraMax > 0) at += between(choices, 'net.extraDelayMs', 0, extraMax);
      if (p.fifo) {
        // Strictly after the previous one: events due at the same time are ordered by a choice.
        at = Math.max(at, (this.#lastDelivery.get(from, to) ?? -1) + 1);
        this.#lastDelivery.set(from, to, at);
      }
      times[c] = at;
    }
    return copies;
  }
}

function matches(pattern: NodeId | '*', node: NodeId, exclude: readonly NodeId[] | undefined): boolean {
  return pattern === '*' ? exclude === undefined || !exclude.includes(node) : pattern === node;
}

function checkParams(p: LinkParams): void {
  if (p.delayMsMin < 0 || p.delayMsMax < p.delayMsMin) fail(`bad link delay ${p.delayMsMin}..${p.delayMsMax}`);
  if (p.lossPerMille < 0 || p.lossPerMille > 1000) fail(`bad loss ${p.lossPerMille}`);
  if (p.dupPerMille < 0 || p.dupPerMille > 1000) fail(`bad duplication ${p.dupPerMille}`);
}
