// Training curves drawn by hand in SVG: a few lines, two axes, nice round ticks.

import { fmt } from './dom.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** About `count` round tick values covering [lo, hi] (1, 2, 2.5, 5 × 10ⁿ steps). */
export function niceTicks(lo, hi, count = 4) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

/** The y range to draw: all finite values, padded; accuracy charts pin [0, 1]. */
export function yRange(series, fixed) {
  if (fixed) return fixed;
  const values = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
  if (!values.length) return [0, 1];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi === lo) { lo -= 0.5; hi += 0.5; }
  const pad = (hi - lo) * 0.08;
  return [Math.max(0, lo - pad), hi + pad];
}

/** Polyline points for `values` (index 0 is epoch 1) inside the plot box. */
export function points(values, epochs, [lo, hi], box) {
  const span = Math.max(1, epochs - 1);
  return values.map((v, i) => (Number.isFinite(v)
    ? `${(box.x + (i / span) * box.w).toFixed(1)},${(box.y + box.h - ((v - lo) / (hi - lo)) * box.h).toFixed(1)}`
    : null)).filter(Boolean).join(' ');
}

function el(name, attrs, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Draw (or redraw) a chart into `svg`: `series` = [{name, values, cls}], `epochs` the
 * planned number (the x axis does not jump as epochs arrive).
 */
export function drawChart(svg, { title, series, epochs, fixed }) {
  const W = 420;
  const H = 220;
  const box = { x: 48, y: 28, w: W - 64, h: H - 64 };
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  svg.replaceChildren();
  const range = yRange(series, fixed);
  svg.append(el('text', { x: box.x, y: 16, class: 'ctitle' }, title));
  for (const t of niceTicks(range[0], range[1])) {
    const y = box.y + box.h - ((t - range[0]) / (range[1] - range[0])) * box.h;
    svg.append(el('line', { x1: box.x, x2: box.x + box.w, y1: y, y2: y, class: 'grid' }));
    svg.append(el('text', { x: box.x - 6, y: y + 4, class: 'tick', 'text-anchor': 'end' }, fmt(t, 3)));
  }
  for (const t of niceTicks(1, Math.max(2, epochs), 5).filter((t) => Number.isInteger(t))) {
    const x = box.x + ((t - 1) / Math.max(1, epochs - 1)) * box.w;
    svg.append(el('text', { x, y: box.y + box.h + 16, class: 'tick', 'text-anchor': 'middle' }, String(t)));
  }
  svg.append(el('text', { x: box.x + box.w, y: H - 6, class: 'tick', 'text-anchor': 'end' }, 'epoch'));
  svg.append(el('rect', { x: box.x, y: box.y, width: box.w, height: box.h, class: 'frame' }));
  series.forEach((s, i) => {
    svg.append(el('polyline', { points: points(s.values, epochs, range, box), class: `line ${s.cls}` }));
    const last = s.values.length ? s.values[s.values.length - 1] : null;
    const lx = 170 + i * 125;
    svg.append(el('line', { x1: lx, x2: lx + 16, y1: 12, y2: 12, class: `line ${s.cls}` }));
    svg.append(el('text', { x: lx + 20, y: 16, class: 'legend' },
      `${s.name}${last === null ? '' : ` ${fmt(last, 3)}`}`));
  });
  const summary = series.map((s) => `${s.name}: ${s.values.map((v) => fmt(v, 3)).join(', ')}`).join('; ');
  svg.setAttribute('aria-label', `${title}. ${summary}`);
}
