// Maths on the page: MathML typeset by the browser, the Unicode beside it for copying,
// and a derivation laid out as on the slides (per path, cached, expanded on request).

import { copyText, fmt, h, matrixTable, shapeOf } from './dom.js';
import { mathFragment } from './safe.js';
import { prettyName } from './values.js';

/** A {unicode, mathml} pair as typeset maths, falling back to the Unicode text. */
export function math(pair, cls = 'm') {
  if (!pair) return h('span', { class: cls });
  const node = mathFragment(pair.mathml);
  const span = h('span', { class: cls });
  if (node) span.append(node);
  else span.textContent = pair.unicode ?? '';
  span.title = pair.unicode ?? '';
  return span;
}

/** A button that copies `text` and says so. */
export function copyButton(text, label = 'Copy text') {
  const button = h('button', { type: 'button', class: 'small', text: label });
  button.addEventListener('click', async () => {
    const ok = await copyText(text);
    button.textContent = ok ? 'Copied ✓' : 'Select and copy';
    setTimeout(() => { button.textContent = label; }, 1600);
  });
  return button;
}

const MAX_OPEN_PATHS = 4;

function row(label, ...content) {
  return h('div', { class: 'drow' }, h('span', { class: 'dlabel', text: label }),
    h('span', { class: 'dbody' }, ...content));
}

function pathLabel(path) {
  return path.map(prettyName).join(' → ');
}

function factorList(factors, onFactor) {
  return h('ul', { class: 'factors' }, factors.map((f) => {
    const item = h('li', {}, math(f.symbol), h('span', { class: 'eqsign', text: ' = ' }), math(f.expr));
    if (f.edge && onFactor) {
      item.dataset.edge = f.edge;
      item.tabIndex = 0;
      item.title = 'show this edge on the diagram';
      item.addEventListener('mouseenter', () => onFactor(f.edge));
      item.addEventListener('focus', () => onFactor(f.edge));
      item.addEventListener('mouseleave', () => onFactor(null));
      item.addEventListener('blur', () => onFactor(null));
    }
    return item;
  }));
}

/** One side of the head's equation, a [left, right] pair of cells per line: "= " then
 * the maths; a broken sum's further lines keep the "= " room empty, so they align. */
function sideRows(pair) {
  const lines = pair?.lines?.length ? pair.lines : [pair];
  return lines.map((line, i) => [h('span'), h('span', { class: 'dline' },
    h('span', { class: i ? 'eqsign ghost' : 'eqsign', text: '= ' }), math(line))]);
}

/** A form on its own, or its lines one under another where the server broke it. */
function stacked(pair) {
  if (!pair.lines?.length) return math(pair);
  return h('span', { class: 'dlines', title: pair.unicode },
    pair.lines.map((line) => h('span', { class: 'dline' }, math(line))));
}

/**
 * A Derivation object (docs/serve-api.md) as a block. `onExpand` (optional) is called to
 * fetch the expanded form; `onFactor(edgeId|null)` lights a factor's edge on a diagram.
 */
export function derivationView(d, { onExpand, onFactor } = {}) {
  const box = h('div', { class: 'derivation' });
  // As on the slides: the chain of symbols, then (aligned under it) the local partials.
  // A long sum of paths comes broken into lines, as the Unicode text breaks it.
  const rows = [...sideRows(d.chain), ...(d.product?.unicode ? sideRows(d.product) : [])];
  rows[0][0] = h('span', { class: 'lhs' }, math(d.head));
  box.append(h('div', { class: 'dhead' }, ...rows.flat()));
  const paths = d.paths || [];
  const pathRows = (d.factors || []).map((factors, i) => {
    const label = paths.length > 1 ? `Path ${i + 1}: ${pathLabel(paths[i] || [])}`
      : `Along ${pathLabel(paths[i] || [])}`;
    return row(label, factorList(factors, onFactor));
  });
  // A trained network (batch norm above all) has dozens of paths: folded, they leave the
  // chain and the cached form in view; a slide-sized graph shows every path at once.
  if (pathRows.length > MAX_OPEN_PATHS) {
    box.append(h('details', { class: 'paths' },
      h('summary', { text: `${pathRows.length} paths, factor by factor` }), ...pathRows));
  } else box.append(...pathRows);
  if (d.cached && d.cached.unicode) {
    const reuses = (d.cached.reuses || []).map((n) => `∂${prettyName(d.of)}/∂${prettyName(n)}`).join(', ');
    box.append(row('Cached', stacked(d.cached),
      reuses ? h('span', { class: 'reuses', text: ` ↻ reuses ${reuses}` }) : null));
  }
  if (d.expanded && d.expanded.unicode) box.append(row('In the leaves', math(d.expanded)));
  else if (onExpand) {
    box.append(row('In the leaves', h('button', {
      type: 'button', class: 'small', text: 'Expand', on: { click: onExpand },
    })));
  }
  if (d.matrix && d.matrix.unicode) box.append(row('Matrix form', h('pre', { class: 'plain', text: d.matrix.unicode })));
  if (d.value !== null && d.value !== undefined) {
    const small = Array.isArray(d.value) && shapeOf(d.value).length <= 2 && d.value.flat().length <= 36;
    box.append(row('Value', small ? matrixTable(d.value) : h('strong', { class: 'value', text: fmt(d.value, 6) })));
  }
  if (d.text) {
    box.append(h('details', { class: 'unicode' }, h('summary', { text: 'Unicode text (for copying)' }),
      h('pre', { text: d.text }), copyButton(d.text)));
  }
  return box;
}
