// One run as a sequence diagram: a lane per node, time going down, a row per event, an arrow per
// message from its send to its delivery (crossed when lost), faults as shaded spans, the story
// shown and every run of other events folded into one row a click unfolds. Rows are all one
// height, so a row's place is its number times that height, and only the rows in the window (and
// a margin) are in the page: a run of 10,000 events scrolls like one of 200. This file holds the
// view's state and its wiring to the page; run-layout.ts places things, run-draw.ts draws them.

import type { RunDocument } from '../document.ts';
import { el, visibleRows } from './dom.ts';
import { headerOf, violationOf } from './run-frame.ts';
import { LANE_PX, LANES_LEFT_PX, ROW_PX, rowsHtml, svgHtml, type Scene } from './run-draw.ts';
import { layoutOf, type Layout } from './run-layout.ts';
import { showState, StateIndex } from './state-panel.ts';

class RunView {
  readonly doc: RunDocument;
  readonly lanes = new Map<string, number>();
  readonly states: StateIndex;
  readonly scroller = el('div', 'scroller');
  readonly canvas = el('div', 'canvas');
  readonly svg: SVGSVGElement;
  readonly rowsBox = el('div', 'rows');
  readonly panel = el('aside', 'state-panel');
  /** Whether any event is off the story: only then is there anything to fold or to highlight. */
  readonly folds: boolean;
  /** Fold everything off the story (the default), or show every event. */
  storyOnly: boolean;
  readonly unfolded = new Set<number>();
  layout: Layout | null = null;
  selected: number | null = null;

  constructor(doc: RunDocument) {
    this.doc = doc;
    doc.nodes.forEach((n, k) => this.lanes.set(n, k));
    this.states = new StateIndex(doc);
    this.folds = doc.events.some((e) => !e.story);
    this.storyOnly = this.folds;
    this.panel.id = 'state-panel';
    this.panel.hidden = true;
    // Made by the HTML parser, an inline <svg> gets the SVG namespace without its URL in our code.
    this.canvas.innerHTML = '<svg class="diagram"></svg>';
    this.svg = this.canvas.firstElementChild as SVGSVGElement;
    this.canvas.append(this.rowsBox);
    this.scroller.append(this.canvas);
  }

  /** Recompute the rows after the folding changed, and size the canvas to them. */
  relayout(): void {
    const layout = layoutOf(this.doc, this.lanes, { storyOnly: this.storyOnly, unfolded: this.unfolded });
    this.layout = layout;
    const heightPx = layout.rows.length * ROW_PX;
    const widthPx = LANES_LEFT_PX + Math.max(1, this.doc.nodes.length) * LANE_PX;
    this.canvas.style.height = `${heightPx}px`;
    this.canvas.style.width = `${widthPx + 16}px`;
    this.svg.setAttribute('width', String(widthPx));
    this.svg.setAttribute('height', String(heightPx));
  }

  /** Draw the rows in the window, and the lanes, arrows and fault spans that cross it. */
  render(): void {
    const layout = this.layout;
    if (layout === null) return;
    const scene: Scene = { doc: this.doc, lanes: this.lanes, layout, markStory: this.folds, selected: this.selected };
    const { first, last } = visibleRows(this.scroller, ROW_PX, layout.rows.length);
    this.rowsBox.innerHTML = rowsHtml(scene, first, last);
    this.svg.innerHTML = svgHtml(scene, first, last);
  }

  /** A click on a fold unfolds it; on an event, selects it and shows the state after it. */
  onClick(target: Element): void {
    const row = target.closest<HTMLElement>('.row');
    if (row === null) return;
    if (row.classList.contains('fold')) {
      for (let k = Number(row.dataset.from); k <= Number(row.dataset.to); k++) this.unfolded.add(k);
      this.relayout();
      this.render();
      return;
    }
    const i = Number(row.dataset.i);
    const e = this.doc.events[i];
    if (e === undefined) return;
    this.selected = i;
    showState(this.panel, this.doc, this.states, i, `after #${e.step} at ${e.timeMs}ms`);
    this.render();
  }

  /** Show every event, or fold what is off the story again. */
  toggleFolds(): void {
    this.storyOnly = !this.storyOnly;
    this.unfolded.clear();
    this.relayout();
    this.render();
  }
}

function toggleOf(view: RunView): HTMLButtonElement {
  const toggle = el('button', 'toggle');
  toggle.id = 'toggle';
  toggle.disabled = !view.folds; // every event is in the story: nothing to fold
  const label = (): void => {
    toggle.textContent = view.storyOnly ? 'show all events' : 'story only';
  };
  label();
  toggle.addEventListener('click', () => {
    view.toggleFolds();
    label();
  });
  return toggle;
}

export function showRun(doc: RunDocument): void {
  const view = new RunView(doc);
  const header = headerOf(doc, toggleOf(view));
  const main = el('main', 'main');
  main.append(view.scroller, view.panel);
  document.body.append(header, main, violationOf(doc));
  view.relayout();
  view.render();
  const laneNames = header.querySelector<HTMLElement>('.lane-header-row')!;
  const clip = header.querySelector<HTMLElement>('.lane-header-clip')!;
  const onScroll = (): void => {
    laneNames.style.transform = `translateX(${-view.scroller.scrollLeft}px)`; // the lane names follow the lanes
    view.render();
  };
  view.scroller.addEventListener('scroll', onScroll, { passive: true });
  // The window narrows when the state panel opens, and with the browser's window.
  new ResizeObserver(() => {
    clip.style.width = `${view.scroller.clientWidth}px`;
    view.render();
  }).observe(view.scroller);
  view.rowsBox.addEventListener('click', (ev) => {
    if (ev.target instanceof Element) view.onClick(ev.target);
  });
}
