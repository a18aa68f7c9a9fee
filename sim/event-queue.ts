// A binary min-heap of events ordered by (time, seq). seq is the insertion counter, so the heap
// order is total and never depends on engine internals; which of several events ready at the same
// virtual time runs first is decided by the scheduler through the choice source, not here.

import { fail } from './assert.ts';

export interface Timed {
  time: number;
  seq: number;
}

export class EventQueue<E extends Timed> {
  readonly #heap: E[] = [];
  #seq = 0;
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#heap.length;
  }

  /** Events pushed since the queue was made: the queue work a run did. */
  get pushes(): number {
    return this.#seq;
  }

  push(event: E): void {
    if (this.#heap.length >= this.#capacity) fail(`event queue over capacity (${this.#capacity})`);
    event.seq = this.#seq++;
    const heap = this.#heap;
    heap.push(event);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = event;
  }

  peekTime(): number {
    return this.#heap.length === 0 ? Infinity : this.#heap[0]!.time;
  }

  pop(): E | undefined {
    const heap = this.#heap;
    if (heap.length === 0) return undefined;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(heap[r]!, heap[l]!) ? r : l;
        if (!before(heap[c]!, last)) break;
        heap[i] = heap[c]!;
        i = c;
      }
      heap[i] = last;
    }
    return top;
  }
}

function before(a: Timed, b: Timed): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
