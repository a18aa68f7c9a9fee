// The order a sweep runs its seeds in, made lazily: batches of a few seeds, seed-major across
// scenarios (the first batch of every scenario, then the second of every scenario, ...), so a
// sweep of all scenarios stopped by --seconds has covered each of them alike. Nothing is built
// ahead: a plan over 10^10 seeds holds a handful of numbers.
//
// Workers finish batches out of order; the plan says which seeds are covered: for each scenario,
// the longest run of seeds from the first with every batch done (batches go out in order, so
// once the in-flight ones finish, the covered seeds are exactly those handed out).

import { assert, fail } from '../sim/assert.ts';
import type { SeedSequence } from '../sim/seed-sequence.ts';

export interface PlannedBatch {
  readonly scenario: string;
  /** Index in the (sharded) seed sequence of the batch's first seed. */
  readonly from: number;
  readonly seeds: readonly number[];
}

/** What a sweep covered of one scenario: its first `seeds` seeds, through `through`. */
export interface Covered {
  readonly scenario: string;
  readonly seeds: number;
  /** The last covered seed, or null if none. */
  readonly through: number | null;
}

export const BATCH_SEEDS = 10;

export class SweepPlan {
  readonly scenarios: readonly string[];
  readonly seeds: SeedSequence;
  readonly #batchSeeds: number;
  /** Index of the next batch's first seed, and which scenario's turn it is. */
  #from = 0;
  #turn = 0;
  readonly #marks: Map<string, DoneMark>;

  constructor(scenarios: readonly string[], seeds: SeedSequence, batchSeeds = BATCH_SEEDS) {
    if (scenarios.length === 0) throw new Error('a sweep plan needs a scenario');
    this.scenarios = scenarios;
    this.seeds = seeds;
    this.#batchSeeds = Math.max(1, batchSeeds);
    this.#marks = new Map(scenarios.map((s) => [s, new DoneMark()]));
  }

  /** Seeds the whole plan runs, every scenario counted. */
  get total(): number {
    return this.seeds.length * this.scenarios.length;
  }

  next(): PlannedBatch | null {
    if (this.#from >= this.seeds.length) return null;
    const scenario = this.scenarios[this.#turn]!;
    const count = Math.min(this.#batchSeeds, this.seeds.length - this.#from);
    const seeds = Array.from({ length: count }, (_, i) => this.seeds.at(this.#from + i));
    const batch = { scenario, from: this.#from, seeds };
    if (++this.#turn === this.scenarios.length) {
      this.#turn = 0;
      this.#from += count;
    }
    return batch;
  }

  /** The first `count` seeds of `batch` ran (all of them unless the sweep stopped inside it). */
  done(batch: PlannedBatch, count = batch.seeds.length): void {
    const mark = this.#marks.get(batch.scenario);
    if (mark === undefined) fail(`a batch of ${batch.scenario}, which this sweep does not run`);
    if (!(count >= 0 && count <= batch.seeds.length)) fail(`${count} seeds done of a batch of ${batch.seeds.length}`);
    assert(batch.from + batch.seeds.length <= this.#from + this.#batchSeeds, 'a batch done before it was handed out');
    mark.done(batch.from, count, count === batch.seeds.length);
  }

  covered(): Covered[] {
    return this.scenarios.map((scenario) => {
      const seeds = this.#marks.get(scenario)!.contiguous;
      return { scenario, seeds, through: seeds === 0 ? null : this.seeds.at(seeds - 1) };
    });
  }
}

/** How far from the start every seed of one scenario is done, with the batches done beyond it. */
class DoneMark {
  contiguous = 0;
  /** Done batches past `contiguous`, by first index: at most one per busy worker. */
  readonly #ahead = new Map<number, { readonly count: number; readonly whole: boolean }>();
  /** A batch was cut short: nothing after it extends the run. */
  #cut = false;

  done(from: number, count: number, whole: boolean): void {
    if (this.#cut) return;
    if (from < this.contiguous || this.#ahead.has(from)) fail(`the batch from seed index ${from} is done twice`);
    this.#ahead.set(from, { count, whole });
    for (let left = this.#ahead.size; left > 0; left--) {
      const next = this.#ahead.get(this.contiguous);
      if (next === undefined) return;
      this.#ahead.delete(this.contiguous);
      this.contiguous += next.count;
      if (!next.whole) {
        this.#cut = true;
        return;
      }
    }
  }
}
