// Two runs side by side, aligned event by event (sim/trace-diff.ts made the pairs): a row per
// pair, A's event left and B's right, a blank where one side has none, rows that differ marked,
// the first divergence marked and scrolled into view. A click on a row shows the state of both
// sides after it, when the documents carry states. Drawn only where the window is, as the run view.

import type { DiffDocument, RunDocument } from '../document.ts';
import { el, escapeHtml, visibleRows } from './dom.ts';
import { showState, StateIndex } from './state-panel.ts';

const ROW_PX = 20;

class DiffView {
  readonly doc: DiffDocument;
  readonly scroller = el('div', 'scroller');
  readonly canvas = el('div', 'canvas');
  readonly panels = el('aside', 'state-panel');
  readonly left: StateIndex;
  readonly right: StateIndex;
  /** Per pair, 1 if its two sides differ: computed once, looked up on every scroll. */
  readonly differing: Uint8Array;
  selected: number | null = null;

  constructor(doc: DiffDocument) {
    this.doc = doc;
    this.left = new StateIndex(doc.left);
    this.right = new StateIndex(doc.right);
    this.panels.id = 'state-panel';
    this.panels.hidden = true;
    this.differing = Uint8Array.from(doc.pairs, (_, k) => (this.differs(k) ? 1 : 0));
    this.canvas.style.height = `${doc.pairs.length * ROW_PX}px`;
    this.scroller.append(this.canvas);
  }

  /** As sim/trace-diff.ts compares events: the same event at the same time, whatever its step number. */
  differs(k: number): boolean {
    const [i, j] = this.doc.pairs[k]!;
    if (i === null || j === null) return true;
    const a = this.doc.left.events[i]!;
    const b = this.doc.right.events[j]!;
    return a.timeMs !== b.timeMs || a.line.replace(/^#\d+ /, '') !== b.line.replace(/^#\d+ /, '');
  }

  render(): void {
    const { first, last } = visibleRows(this.scroller, ROW_PX, this.doc.pairs.length);
    const html: string[] = [];
    for (let k = first; k <= last; k++) html.push(this.rowHtml(k));
    this.canvas.innerHTML = html.join('');
  }

  rowHtml(k: number): string {
    const [i, j] = this.doc.pairs[k]!;
    const cell = (side: string, doc: RunDocument, at: number | null): string => {
      if (at === null) return `<span class="cell ${side} blank">—</span>`;
      const line = escapeHtml(doc.events[at]!.line);
      return `<span class="cell ${side}" data-i="${at}" title="${line}">${line}</span>`;
    };
    const classes = ['diff-row', this.differing[k] === 1 ? 'differs' : '', k === this.doc.firstDivergence ? 'first' : '', k === this.selected ? 'selected' : ''].filter((c) => c !== '').join(' ');
    const id = k === this.doc.firstDivergence ? ' id="first-divergence"' : '';
    return `<div class="${classes}"${id} data-k="${k}" style="top:${k * ROW_PX}px">${cell('left', this.doc.left, i)}${cell('right', this.doc.right, j)}</div>`;
  }

  onClick(target: Element): void {
    const row = target.closest<HTMLElement>('.diff-row');
    if (row === null) return;
    const k = Number(row.dataset.k);
    this.selected = k;
    const [i, j] = this.doc.pairs[k]!;
    this.panels.replaceChildren();
    this.panels.hidden = false;
    for (const [side, doc, index, at] of [['A', this.doc.left, this.left, i], ['B', this.doc.right, this.right, j]] as const) {
      const box = el('section', 'side');
      this.panels.append(box);
      if (at === null) box.append(el('h2', '', `${side}: no counterpart`));
      else showState(box, doc, index, at, `${side}: after #${doc.events[at]!.step} at ${doc.events[at]!.timeMs}ms`);
    }
    this.render();
  }
}

export function showDiff(doc: DiffDocument): void {
  const view = new DiffView(doc);
  const header = el('header', 'top');
  header.append(el('h1', '', `A: ${doc.left.title}`), el('h1', '', `B: ${doc.right.title}`), el('p', 'summary', doc.summary));
  header.querySelector('.summary')!.id = 'summary';
  const columns = el('div', 'diff-columns');
  columns.append(el('div', 'diff-column', `A: ${verdict(doc.left)}`), el('div', 'diff-column', `B: ${verdict(doc.right)}`));
  header.append(columns);
  const main = el('main', 'main');
  main.append(view.scroller, view.panels);
  document.body.append(header, main);
  view.scroller.addEventListener('scroll', () => view.render(), { passive: true });
  view.canvas.addEventListener('click', (ev) => {
    if (ev.target instanceof Element) view.onClick(ev.target);
  });
  window.addEventListener('resize', () => view.render());
  view.render();
  if (doc.firstDivergence !== null) {
    // The first divergence in view, a few rows of what both runs shared above it.
    view.scroller.scrollTop = Math.max(0, (doc.firstDivergence - 5) * ROW_PX);
    view.render();
  }
}

function verdict(doc: RunDocument): string {
  const v = doc.violation;
  if (doc.scenario === '') return `${doc.events.length} events (a trace file)`;
  return v === null ? `${doc.events.length} events, no violation` : `${doc.events.length} events, ${v.invariant}: ${v.message}`;
}
