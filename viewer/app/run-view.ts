// One run as a sequence diagram: a lane per node, time going down, a row per event, an arrow
// per message from its send to its delivery (crossed when lost), faults as shaded spans, the
// story shown and every run of other events folded into one row a click unfolds. Rows are all
// one height, so a row's place is its number times that height, and only the rows in the window
// (and a margin) are in the page: a run of 20,000 events scrolls as one of 200.

import type { RunDocument, ViewEvent } from '../document.ts';
import { body, el, escapeHtml, visibleRows } from './dom.ts';
import { showState, StateIndex } from './state-panel.ts';

const ROW_PX = 20;
const TIME_PX = 96;
/** The event's text sits left of the lanes, so it stays in view whatever the number of nodes. */
const TEXT_PX = 520;
const LANES_LEFT_PX = TIME_PX + TEXT_PX;
const LANE_PX = 64;

/** A displayed row: one event, or a run of folded events (from..to, inclusive). */
type Row = { readonly kind: 'event'; readonly i: number } | { readonly kind: 'fold'; readonly from: number; readonly to: number };

interface Arrow {
  readonly fromRow: number;
  readonly toRow: number;
  readonly fromLane: number;
  readonly toLane: number;
  readonly lost: boolean;
  readonly i: number;
}

interface Span {
  readonly fromRow: number;
  readonly toRow: number;
  readonly laneMin: number;
  readonly laneMax: number;
  readonly kind: string;
  readonly description: string;
}

class RunView {
  readonly doc: RunDocument;
  readonly lanes = new Map<string, number>();
  readonly states: StateIndex;
  readonly scroller = el('div', 'scroller');
  readonly canvas = el('div', 'canvas');
  readonly svg: SVGSVGElement;
  readonly rowsBox = el('div', 'rows');
  readonly panel = el('aside', 'state-panel');
  /** Fold everything off the story (the default), or show every event. */
  storyOnly: boolean;
  readonly unfolded = new Set<number>();
  rows: Row[] = [];
  rowOf = new Int32Array(0);
  arrows: Arrow[] = [];
  spans: Span[] = [];
  selected: number | null = null;

  constructor(doc: RunDocument) {
    this.doc = doc;
    doc.nodes.forEach((n, k) => this.lanes.set(n, k));
    this.states = new StateIndex(doc);
    this.storyOnly = doc.events.some((e) => !e.story);
    this.panel.id = 'state-panel';
    this.panel.hidden = true;
    // An inline <svg> in the HTML parser's hands is in the SVG namespace: no namespace URL needed.
    this.canvas.innerHTML = '<svg class="diagram"></svg>';
    this.svg = this.canvas.firstElementChild as SVGSVGElement;
    this.canvas.append(this.rowsBox);
    this.scroller.append(this.canvas);
  }

  get lanesPx(): number {
    return Math.max(1, this.doc.nodes.length) * LANE_PX;
  }

  laneX(lane: number): number {
    return LANES_LEFT_PX + lane * LANE_PX + LANE_PX / 2;
  }

  /** The displayed rows: story events, and runs of the rest folded unless unfolded. */
  layout(): void {
    const rows: Row[] = [];
    const events = this.doc.events;
    const rowOf = new Int32Array(events.length);
    for (let i = 0; i < events.length; ) {
      if (!this.storyOnly || events[i]!.story || this.unfolded.has(i)) {
        rowOf[i] = rows.length;
        rows.push({ kind: 'event', i });
        i++;
        continue;
      }
      let j = i;
      while (j + 1 < events.length && !events[j + 1]!.story) j++;
      for (let k = i; k <= j; k++) rowOf[k] = rows.length;
      rows.push({ kind: 'fold', from: i, to: j });
      i = j + 1;
    }
    this.rows = rows;
    this.rowOf = rowOf;
    this.arrows = this.arrowsOf();
    this.spans = this.spansOf();
    this.canvas.style.height = `${rows.length * ROW_PX}px`;
    this.canvas.style.width = `${LANES_LEFT_PX + this.lanesPx + 16}px`;
    this.svg.setAttribute('width', String(LANES_LEFT_PX + this.lanesPx));
    this.svg.setAttribute('height', String(rows.length * ROW_PX));
  }

  arrowsOf(): Arrow[] {
    const arrows: Arrow[] = [];
    for (const e of this.doc.events) {
      if ((e.kind !== 'deliver' && e.kind !== 'lost') || e.sendIndex === undefined) continue;
      const send = this.doc.events[e.sendIndex]!;
      const fromRow = this.rowOf[e.sendIndex]!;
      const toRow = this.rowOf[e.i]!;
      if (fromRow === toRow) continue; // both inside one fold
      arrows.push({ fromRow, toRow, fromLane: this.lanes.get(send.node) ?? 0, toLane: this.lanes.get(e.node) ?? 0, lost: e.kind === 'lost', i: e.i });
    }
    return arrows;
  }

  spansOf(): Span[] {
    const all = this.doc.nodes.map((_, k) => k);
    return this.doc.faults.map((f) => {
      const lanes = f.nodes.map((n) => this.lanes.get(n)).filter((k): k is number => k !== undefined);
      const used = lanes.length > 0 ? lanes : all;
      const toRow = f.endIndex === null ? this.rows.length - 1 : this.rowOf[f.endIndex]!;
      return { fromRow: this.rowOf[f.startIndex]!, toRow, laneMin: Math.min(...used), laneMax: Math.max(...used), kind: f.kind, description: f.description };
    });
  }

  /** Draw the rows in the window, and the lanes, arrows and fault spans that cross it. */
  render(): void {
    const { first, last } = visibleRows(this.scroller, ROW_PX, this.rows.length);
    const html: string[] = [];
    for (let r = first; r <= last; r++) html.push(this.rowHtml(r));
    this.rowsBox.innerHTML = html.join('');
    this.svg.innerHTML = this.svgHtml(first, last);
  }

  rowHtml(r: number): string {
    const row = this.rows[r]!;
    const top = `style="top:${r * ROW_PX}px"`;
    if (row.kind === 'fold') {
      const n = row.to - row.from + 1;
      return `<div class="row fold" data-from="${row.from}" data-to="${row.to}" ${top}><span class="time"></span><span class="text" style="left:${TIME_PX}px;width:${TEXT_PX - 8}px">⋯ ${n} event${n === 1 ? '' : 's'} folded (click to unfold)</span></div>`;
    }
    const e = this.doc.events[row.i]!;
    const classes = ['row', 'event', `kind-${e.kind}`, e.story && this.storyOnly ? 'story' : '', e.kind === 'lost' ? 'lost' : '', this.selected === e.i ? 'selected' : ''].filter((c) => c !== '').join(' ');
    const decisions = e.decisions === undefined ? '' : `<span class="decision" title="decisions: ${escapeHtml(e.decisions.join(' '))}">◆ ${escapeHtml(e.decisions.join(' '))}</span>`;
    return `<div class="${classes}" data-i="${e.i}" data-node="${escapeHtml(e.node)}" ${top}><span class="time">#${e.step} ${e.timeMs}ms</span><span class="text" style="left:${TIME_PX}px;width:${TEXT_PX - 8}px" title="${escapeHtml(e.line)}">${decisions}${escapeHtml(body(e.line))}</span></div>`;
  }

  svgHtml(first: number, last: number): string {
    const y0 = first * ROW_PX;
    const y1 = (last + 1) * ROW_PX;
    const parts: string[] = ['<defs><marker id="head" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" class="head"/></marker></defs>'];
    for (const s of this.spans) {
      if (s.toRow < first || s.fromRow > last) continue;
      const x = LANES_LEFT_PX + s.laneMin * LANE_PX + 2;
      const w = (s.laneMax - s.laneMin + 1) * LANE_PX - 4;
      parts.push(`<rect class="fault-span fault-${s.kind}" x="${x}" y="${s.fromRow * ROW_PX}" width="${w}" height="${(s.toRow - s.fromRow + 1) * ROW_PX}"><title>${escapeHtml(s.description)}</title></rect>`);
    }
    this.doc.nodes.forEach((_, k) => parts.push(`<line class="lane-line" x1="${this.laneX(k)}" x2="${this.laneX(k)}" y1="${y0}" y2="${y1}"/>`));
    for (const a of this.arrows) {
      if (Math.max(a.fromRow, a.toRow) < first || Math.min(a.fromRow, a.toRow) > last) continue;
      parts.push(this.arrowSvg(a));
    }
    for (let r = first; r <= last; r++) parts.push(this.dotSvg(r));
    return parts.join('');
  }

  arrowSvg(a: Arrow): string {
    const x1 = this.laneX(a.fromLane);
    const x2 = this.laneX(a.toLane);
    const y1 = a.fromRow * ROW_PX + ROW_PX / 2;
    const y2 = a.toRow * ROW_PX + ROW_PX / 2;
    const line = `<line class="arrow${a.lost ? ' lost-arrow' : ''}" data-i="${a.i}" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"${a.lost ? '' : ' marker-end="url(#head)"'}/>`;
    return a.lost ? `${line}<path class="lost" d="M${x2 - 5},${y2 - 5} L${x2 + 5},${y2 + 5} M${x2 - 5},${y2 + 5} L${x2 + 5},${y2 - 5}"/>` : line;
  }

  /** A mark on the event's lane: a dot for its node, a band across every lane for world events. */
  dotSvg(r: number): string {
    const row = this.rows[r]!;
    const y = r * ROW_PX + ROW_PX / 2;
    if (row.kind === 'fold') return `<line class="fold-mark" x1="${LANES_LEFT_PX}" x2="${LANES_LEFT_PX + this.lanesPx}" y1="${y}" y2="${y}"/>`;
    const e = this.doc.events[row.i]!;
    const lane = this.lanes.get(e.node);
    if (lane === undefined) return `<line class="world-mark kind-${e.kind}" x1="${LANES_LEFT_PX}" x2="${LANES_LEFT_PX + this.lanesPx}" y1="${y}" y2="${y}"/>`;
    const mark = e.decisions === undefined ? '' : `<rect class="decision-mark" x="${this.laneX(lane) + 5}" y="${y - 4}" width="8" height="8" transform="rotate(45 ${this.laneX(lane) + 9} ${y})"/>`;
    return `<circle class="dot kind-${e.kind}" cx="${this.laneX(lane)}" cy="${y}" r="${e.kind === 'send' ? 2.5 : 4}"/>${mark}`;
  }

  /** A click on a fold unfolds it; on an event, selects it and shows the state after it. */
  onClick(target: HTMLElement): void {
    const row = target.closest<HTMLElement>('.row');
    if (row === null) return;
    if (row.classList.contains('fold')) {
      for (let k = Number(row.dataset.from); k <= Number(row.dataset.to); k++) this.unfolded.add(k);
      this.layout();
      this.render();
      return;
    }
    const i = Number(row.dataset.i);
    this.selected = i;
    const e: ViewEvent = this.doc.events[i]!;
    showState(this.panel, this.doc, this.states, i, `after #${e.step} at ${e.timeMs}ms`);
    this.render();
  }
}

function headerOf(view: RunView, toggle: HTMLButtonElement): HTMLElement {
  const doc = view.doc;
  const header = el('header', 'top');
  const story = doc.events.filter((e) => e.story).length;
  header.append(el('h1', '', doc.title), el('p', 'counts', `${doc.events.length} events in ${doc.steps} steps, ${story} in the story; ${doc.faults.length} fault${doc.faults.length === 1 ? '' : 's'}; fingerprint ${doc.fingerprint}`), toggle);
  const lanes = el('div', 'lane-header-row');
  lanes.style.paddingLeft = `${LANES_LEFT_PX}px`;
  for (const node of doc.nodes) {
    const h = el('div', 'lane-header', node);
    h.dataset.node = node;
    h.style.width = `${LANE_PX}px`;
    lanes.append(h);
  }
  header.append(lanes);
  return header;
}

function violationOf(doc: RunDocument): HTMLElement {
  const footer = el('footer', 'violation');
  footer.id = 'violation';
  const v = doc.violation;
  if (v === null) {
    footer.classList.add('passed');
    footer.append(el('strong', '', 'no violation'), document.createTextNode(doc.scenario === '' ? ' (a trace file: its verdict is not in it)' : ': every invariant held and every goal was reached'));
    return footer;
  }
  footer.append(el('strong', 'invariant', v.invariant), el('span', 'promise', v.text), el('div', 'message', v.message), el('div', 'where', `at step ${v.step}, ${v.timeMs}ms (${v.phase})`));
  return footer;
}

export function showRun(doc: RunDocument): void {
  const view = new RunView(doc);
  const toggle = el('button', 'toggle');
  toggle.id = 'toggle';
  const label = (): void => {
    toggle.textContent = view.storyOnly ? 'show all events' : 'story only';
    toggle.disabled = !doc.events.some((e) => !e.story);
  };
  label();
  toggle.addEventListener('click', () => {
    view.storyOnly = !view.storyOnly;
    view.unfolded.clear();
    label();
    view.layout();
    view.render();
  });
  const main = el('main', 'main');
  main.append(view.scroller, view.panel);
  document.body.append(headerOf(view, toggle), main, violationOf(doc));
  view.layout();
  view.render();
  const lanes = document.querySelector<HTMLElement>('.lane-header-row')!;
  view.scroller.addEventListener(
    'scroll',
    () => {
      lanes.style.transform = `translateX(${-view.scroller.scrollLeft}px)`; // the lane names follow the lanes
      view.render();
    },
    { passive: true },
  );
  view.rowsBox.addEventListener('click', (ev) => view.onClick(ev.target as HTMLElement));
  window.addEventListener('resize', () => view.render());
}
