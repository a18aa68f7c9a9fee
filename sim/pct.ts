// PCT, probabilistic concurrency testing (Burckhardt et al. 2010, as Coyote and Shuttle use it),
// adapted to nodes in virtual time. A run draws, through the choice source:
// - a priority order over the nodes (each node is inserted at a drawn place as it is added);
// - `depth - 1` change points: virtual times in the workload at which the node that runs next
//   drops to the lowest priority (PCT's priority change points; a bug of depth d needs d - 1).
// The priorities then decide what uniform draws decided before:
// - events ready at the same time run highest priority first (actions, which belong to no node,
//   before any node's), with no choice drawn;
// - a message's delay comes from its receiver's band of the link's delay range: the highest
//   priority node hears within the first slice of it, the lowest within the last. A demoted
//   node thus falls behind everyone else, the way a descheduled thread does, while timers and
//   timeouts keep virtual time: the slow-peer races PCT is built to reach.

import { assert } from './assert.ts';
import { between, type ChoiceSource } from './choice.ts';
import type { NodeId } from '../ports/index.ts';

export class PctSchedule {
  /** Highest priority first. */
  readonly #order: NodeId[] = [];
  readonly #changeAtMs: number[];
  readonly #choices: ChoiceSource;

  /** `depth` (the run configuration's pctDepth, 3 by default): bugs of that many ordering constraints and below. */
  constructor(choices: ChoiceSource, horizonMs: number, depth: number) {
    assert(depth >= 1 && horizonMs >= 0, 'pct needs a depth of at least 1 and a horizon');
    this.#choices = choices;
    this.#changeAtMs = Array.from({ length: depth - 1 }, () => between(choices, 'pct.changeAtMs', 0, horizonMs)).sort((a, b) => a - b);
  }

  /** A node joins at a drawn place in the order (0: above every node so far). */
  add(node: NodeId): void {
    const at = this.#choices.choose('pct.priority', this.#order.length + 1);
    this.#order.splice(at, 0, node);
  }

  /** 0 is the highest priority; a node not added (none such in a scenario) counts as lowest. */
  rank(node: NodeId): number {
    const i = this.#order.indexOf(node);
    return i < 0 ? this.#order.length : i;
  }

  /** After a step of `node` at `nowMs`: at a change point due, that node drops to the bottom. */
  afterStep(nowMs: number, node: NodeId): void {
    if (this.#changeAtMs.length === 0 || this.#changeAtMs[0]! > nowMs || node === '') return;
    this.#changeAtMs.shift();
    const i = this.#order.indexOf(node);
    if (i < 0) return;
    this.#order.splice(i, 1);
    this.#order.push(node);
  }

  /** The slice of [min, max] a message to `to` is delayed within, written into `band`. */
  delayBand(to: NodeId, min: number, max: number, band: number[]): void {
    const slices = Math.max(1, this.#order.length);
    const r = Math.min(this.rank(to), slices - 1);
    const span = max - min;
    band[0] = min + Math.floor((span * r) / slices);
    band[1] = Math.max(band[0], min + Math.floor((span * (r + 1)) / slices));
  }
}
