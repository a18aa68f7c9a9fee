// The coverage strategy: a search over many runs, not a way to run one. It keeps a corpus of
// tapes that reached protocol transitions no earlier run had reached, and builds most new runs by
// mutating one of them (AFL's loop, over choice tapes instead of bytes):
// - a transition is a pair of consecutive events at one node, each named by its signature: a
//   message's type (an untyped reply by its fields and their short values, so `created: true`
//   and `created: false` differ), a timer's tag, a resumed workflow and whether it timed out;
// - a run either starts fresh from its seed (a quarter of them, and every run until the corpus
//   has a tape) or replays a corpus tape up to a drawn point and then draws fresh, or redraws a
//   short window of it and keeps the rest;
// - the parent is the less-mutated of two tapes drawn from the corpus, so new finds get tried.
// Faults are drawn as under swarm (sim/strategy.ts), so a mutation that keeps a tape's head
// keeps its fault menu. Every draw of a run still goes through its choice recorder, so whatever
// the search finds is a tape that replays without the corpus. The search is deterministic given
// its base seed and the order runs are made in, which is why a coverage sweep runs in one thread.

import seedrandom from 'seedrandom';
import { assert } from './assert.ts';
import { ChoiceRecorder } from './choice.ts';
import { messageType } from './trace.ts';

/** What a run of the coverage strategy reached: the transitions, as numbers. */
export class CoverageMap {
  readonly #ids = new Map<string, number>();
  #last: number[] = [];
  edges = new Set<number>();

  /** A new run: no node has a previous event yet. */
  beginRun(): void {
    this.#last = [];
    this.edges = new Set();
  }

  /** One step at node `nodeIndex` (-1 for an action of no node). */
  visit(nodeIndex: number, signature: string): void {
    let id = this.#ids.get(signature);
    if (id === undefined) this.#ids.set(signature, (id = this.#ids.size + 1));
    assert(id < 2 ** 20 && nodeIndex < 2 ** 12, 'coverage signature space exhausted');
    const slot = nodeIndex + 1;
    const prev = this.#last[slot] ?? 0;
    this.#last[slot] = id;
    this.edges.add(slot * 2 ** 40 + prev * 2 ** 20 + id);
  }
}

/** A payload's signature: its type, or for an untyped object its fields and short values. */
export function signatureOf(payload: unknown): string {
  const type = messageType(payload);
  if (type !== 'object' || payload === null) return type;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(payload as Record<string, unknown>).slice(0, 4)) {
    parts.push(typeof v === 'boolean' || v === null || (typeof v === 'string' && v.length <= 16) ? `${k}=${String(v)}` : k);
  }
  return `{${parts.join(',')}}`;
}

interface CorpusEntry {
  readonly values: readonly number[];
  picks: number;
}

/** Tapes kept at most: the oldest go first. */
const CORPUS_MAX = 512;
const FRESH_PER_MILLE = 250;
const WINDOW_MAX = 8;

export class CoverageSearch {
  readonly map = new CoverageMap();
  readonly #corpus: CorpusEntry[] = [];
  readonly #seen = new Set<number>();
  readonly #base: string;

  constructor(base: string) {
    this.#base = base;
  }

  get corpusSize(): number {
    return this.#corpus.length;
  }

  /** The choice source for run `index` of the search (draws come from a PRNG of the index). */
  choicesFor(index: number): ChoiceRecorder {
    const prng = seedrandom.alea(`coverage:${this.#base}:${index}`);
    const draw = (n: number): number => Math.floor(prng() * n);
    this.map.beginRun();
    if (this.#corpus.length === 0 || draw(1000) < FRESH_PER_MILLE) return new ChoiceRecorder((_label, n) => draw(n));
    const a = this.#corpus[draw(this.#corpus.length)]!;
    const b = this.#corpus[draw(this.#corpus.length)]!;
    const parent = a.picks <= b.picks ? a : b;
    parent.picks++;
    const at = draw(Math.max(1, parent.values.length));
    // -1: draw fresh at this index.
    const plan: number[] = draw(2) === 0 ? parent.values.slice(0, at) : parent.values.slice();
    if (plan.length === parent.values.length) for (let i = at; i < Math.min(plan.length, at + 1 + draw(WINDOW_MAX)); i++) plan[i] = -1;
    return new ChoiceRecorder((_label, n, index) => {
      const v = plan[index];
      return v === undefined || v < 0 ? draw(n) : Math.min(v, n - 1);
    });
  }

  /** After a run: keep its tape if it reached a transition no run had. Returns how many. */
  observe(values: readonly number[]): number {
    let fresh = 0;
    for (const edge of this.map.edges) {
      if (!this.#seen.has(edge)) {
        this.#seen.add(edge);
        fresh++;
      }
    }
    if (fresh > 0) {
      this.#corpus.push({ values: values.slice(), picks: 0 });
      if (this.#corpus.length > CORPUS_MAX) this.#corpus.shift();
    }
    return fresh;
  }
}
