// What surrounds the run's diagram: the header (title, counts, the fold toggle, the lane names,
// kept in place while the rows scroll under them) and the verdict at the bottom (the violated
// invariant with its promise, the message, when; or that the run passed).

import type { RunDocument } from '../document.ts';
import { el } from './dom.ts';
import { LANE_PX, LANES_LEFT_PX } from './run-draw.ts';

export function headerOf(doc: RunDocument, toggle: HTMLButtonElement): HTMLElement {
  const header = el('header', 'top');
  const story = doc.events.filter((e) => e.story).length;
  const faults = `${doc.faults.length} fault${doc.faults.length === 1 ? '' : 's'}`;
  const bugs = doc.bugs.length === 0 ? '' : `; bugs: ${doc.bugs.join(', ')}`;
  header.append(el('h1', '', doc.title), el('p', 'counts', `${doc.events.length} events in ${doc.steps} steps, ${story} in the story; ${faults}${bugs}; fingerprint ${doc.fingerprint}`), toggle);
  header.append(laneHeaders(doc));
  return header;
}

/**
 * The lane names, one per node, in a clip the view keeps as wide as the diagram's window (so the
 * names stop where the lanes do) and shifts sideways as the diagram scrolls sideways.
 */
function laneHeaders(doc: RunDocument): HTMLElement {
  const clip = el('div', 'lane-header-clip');
  const lanes = el('div', 'lane-header-row');
  clip.append(lanes);
  lanes.style.paddingLeft = `${LANES_LEFT_PX}px`;
  for (const node of doc.nodes) {
    const h = el('div', 'lane-header', node);
    h.dataset.node = node;
    h.title = node;
    h.style.width = `${LANE_PX}px`;
    lanes.append(h);
  }
  return clip;
}

export function violationOf(doc: RunDocument): HTMLElement {
  const footer = el('footer', 'violation');
  footer.id = 'violation';
  const v = doc.violation;
  if (v === null) {
    footer.classList.add('passed');
    // A trace file (no scenario) carries events only: whether its run passed is not in it.
    const why = doc.scenario === '' ? 'no violation in this trace (a trace file does not record its verdict)' : 'passed: every invariant held and every goal was reached';
    footer.append(el('strong', '', why));
    return footer;
  }
  footer.append(el('strong', 'invariant', v.invariant), el('span', 'promise', v.text), el('div', 'message', v.message), el('div', 'where', `at step ${v.step}, ${v.timeMs}ms (${v.phase})`));
  return footer;
}
