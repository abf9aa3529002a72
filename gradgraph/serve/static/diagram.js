// A Graphviz diagram from /api/render, made interactive: every node `<g id="n3">` and edge
// `<g id="e_n1_n3">` becomes a keyboard-reachable button; classes mark the selection, a
// lit factor and the checker's wrong edges.

import { clear, h } from './dom.js';
import { svgElement } from './safe.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

export class Diagram {
  /** `names`: {id: display name}; `onPick(id, kind)` with kind 'node' or 'edge'. */
  constructor(container, { onPick = null, names = {} } = {}) {
    this.box = container;
    this.onPick = onPick;
    this.names = names;
    this.selected = null;
    this.marks = {};
  }

  setNames(names) {
    this.names = names;
  }

  /** Insert an SVG (or show `message` when there is none). Returns true when drawn. */
  show(svgText, message) {
    const svg = svgElement(svgText);
    if (!svg) {
      clear(this.box, h('p', { class: 'placeholder', text: message || 'No diagram.' }));
      return false;
    }
    svg.setAttribute('role', 'group');
    svg.setAttribute('aria-label', 'the computational graph');
    for (const g of svg.querySelectorAll('g.node, g.edge')) this.wire(g);
    // A keyboard user stepping with ←/→ keeps their place when the picture is redrawn.
    const focused = this.box.contains(document.activeElement) ? document.activeElement.id : '';
    clear(this.box, svg);
    if (focused) svg.querySelector(`[id="${CSS.escape(focused)}"]`)?.focus({ preventScroll: true });
    this.box.classList.remove('stale');
    this.addZoom(svg);
    this.reapply();
    return true;
  }

  // A big graph is fitted to the box; a button shows it at its natural size (scrolling).
  addZoom(svg) {
    const natural = Number(svg.dataset.natural);
    if (!(natural > this.box.clientWidth + 16)) return;
    const button = h('button', { type: 'button', class: 'small zoom' });
    const apply = () => {
      svg.style.width = this.zoomed ? `${natural}px` : '';
      svg.style.maxWidth = this.zoomed ? 'none' : `${natural}px`;
      button.textContent = this.zoomed ? 'Fit to the box' : 'Actual size';
      button.setAttribute('aria-pressed', String(Boolean(this.zoomed)));
    };
    button.addEventListener('click', () => { this.zoomed = !this.zoomed; apply(); });
    apply();
    this.box.prepend(button);
  }

  /** Dim the last picture while the text it showed no longer parses. */
  stale(on = true) {
    this.box.classList.toggle('stale', on);
  }

  wire(g) {
    const kind = g.classList.contains('node') ? 'node' : 'edge';
    const label = this.describe(g.id, kind);
    const title = g.querySelector('title');
    if (title) title.textContent = label;
    if (kind === 'edge') this.addHitArea(g);
    if (!this.onPick) return;
    g.setAttribute('tabindex', '0');
    g.setAttribute('role', 'button');
    g.setAttribute('aria-label', label);
    g.addEventListener('click', () => this.onPick(g.id, kind));
    g.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        this.onPick(g.id, kind);
      }
    });
  }

  describe(id, kind) {
    if (kind === 'node') return `${this.names[id] ?? id}: show its derivation`;
    const match = /^e_(n\d+)_(n\d+)$/.exec(id);
    if (!match) return 'edge';
    return `edge ${this.names[match[1]] ?? match[1]} → ${this.names[match[2]] ?? match[2]}: show its local partial`;
  }

  // Edges are one pixel wide; a transparent wide copy of the path makes them easy to hit.
  addHitArea(g) {
    const path = g.querySelector('path');
    if (!path) return;
    const hit = document.createElementNS(SVG_NS, 'path');
    hit.setAttribute('d', path.getAttribute('d'));
    hit.setAttribute('class', 'hit');
    g.insertBefore(hit, g.firstChild);
  }

  element(id) {
    return id ? this.box.querySelector(`g[id="${CSS.escape(id)}"]`) : null;
  }

  select(id) {
    this.selected = id;
    this.reapply();
  }

  /** Put class `cls` on exactly the elements `ids` (e.g. the checker's wrong edges). */
  mark(cls, ids) {
    this.marks[cls] = ids || [];
    this.reapply();
  }

  reapply() {
    for (const el of this.box.querySelectorAll('.gg-selected')) el.classList.remove('gg-selected');
    const sel = this.element(this.selected);
    if (sel) sel.classList.add('gg-selected');
    for (const [cls, ids] of Object.entries(this.marks)) {
      for (const el of this.box.querySelectorAll(`.${cls}`)) el.classList.remove(cls);
      for (const id of ids) this.element(id)?.classList.add(cls);
    }
  }
}
