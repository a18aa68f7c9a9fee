// The state panel: what the oracle could see after an event, node by node. A document keeps a
// state only where a step changed it; the state of a node after event i is its latest at or
// before i.

import type { RunDocument } from '../document.ts';
import { el } from './dom.ts';

/** Per node, the events that recorded its state (ascending) and the state each recorded. */
export class StateIndex {
  readonly #byNode = new Map<string, { events: number[]; states: number[] }>();
  readonly #doc: RunDocument;

  constructor(doc: RunDocument) {
    this.#doc = doc;
    for (const e of doc.events) {
      for (const [node, state] of Object.entries(e.state ?? {})) {
        let entry = this.#byNode.get(node);
        if (entry === undefined) this.#byNode.set(node, (entry = { events: [], states: [] }));
        entry.events.push(e.i);
        entry.states.push(state);
      }
    }
  }

  /** The node's state after event `i` (its latest at or before it), with the event that set it. */
  at(node: string, i: number): { state: unknown; since: number } | null {
    const entry = this.#byNode.get(node);
    if (entry === undefined) return null;
    let lo = 0;
    let hi = entry.events.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (entry.events[mid]! <= i) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? null : { state: this.#doc.states[entry.states[found]!], since: entry.events[found]! };
  }

  get nodes(): string[] {
    return [...this.#byNode.keys()];
  }
}

/** Fill `panel` with the state of every node after event `i` of `doc`, the event's own node first. */
export function showState(panel: HTMLElement, doc: RunDocument, index: StateIndex, i: number, heading: string): void {
  const event = doc.events[i]!;
  panel.replaceChildren();
  panel.hidden = false;
  panel.append(el('h2', '', heading), el('pre', 'event-line', event.line));
  if (event.decisions !== undefined) panel.append(el('p', 'decisions', `decisions: ${event.decisions.join(' ')}`));
  const order = [event.node, ...doc.nodes.filter((n) => n !== event.node)].filter((n) => n !== '');
  let shown = 0;
  for (const node of order) {
    const at = index.at(node, i);
    if (at === null) continue;
    const details = el('details', 'node-state');
    details.dataset.node = node;
    details.open = node === event.node || (event.node === '' && shown === 0);
    const since = doc.events[at.since]!;
    details.append(el('summary', '', `${node} (as of #${since.step} ${since.timeMs}ms)`), el('pre', '', JSON.stringify(at.state, null, 2)));
    panel.append(details);
    shown++;
  }
  if (shown === 0) panel.append(el('p', 'none', 'No state recorded for this run (a trace file keeps events only).'));
}
