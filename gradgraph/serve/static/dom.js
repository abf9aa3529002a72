// Small DOM helpers. Text always goes in through textContent; the only markup the page
// inserts is the server's MathML and Graphviz SVG, and that passes through safe.js first.

/** h('p', {class: 'x', on: {click: f}, attrs: {...}}, child, 'text', ...) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'on') for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === 'attrs') for (const [a, v] of Object.entries(value)) el.setAttribute(a, v);
    else el[key] = value;
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Show a one-line message (or hide the element when the message is empty). */
export function say(el, message, kind = 'error') {
  el.textContent = message || '';
  el.hidden = !message;
  el.dataset.kind = kind;
}

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.flush = (...args) => {
    clearTimeout(timer);
    fn(...args);
  };
  return wrapped;
}

/** Latest-wins: responses to superseded requests are dropped. */
export function latest() {
  let counter = 0;
  return async (promise) => {
    const mine = ++counter;
    const result = await promise;
    if (mine !== counter) throw new Superseded();
    return result;
  };
}

export class Superseded extends Error {}

/** A number as a teacher writes it: 4 significant digits, a real minus sign. */
export function fmt(value, digits = 4) {
  if (value === null || value === undefined) return '—';
  if (Array.isArray(value)) return fmtArray(value, digits);
  const x = Number(value);
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  let text = x.toPrecision(digits);
  if (text.includes('e')) {
    const [m, e] = text.split('e');
    text = `${trimZeros(m)}×10${superscript(Number(e))}`;
  } else {
    text = trimZeros(text);
  }
  return text.replace('-', '−');
}

function trimZeros(text) {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

const SUP = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };
function superscript(n) {
  return String(n).split('').map((c) => SUP[c] ?? c).join('');
}

function fmtArray(arr, digits) {
  const flat = arr.flat(Infinity);
  // A handful of numbers reads better than a shape; a batch of one is just its row.
  if (flat.length <= 3) return `[${flat.map((v) => fmt(v, Math.min(digits, 3))).join(', ')}]`;
  return `${shapeOf(arr).join('×')} array`;
}

export function shapeOf(value) {
  const shape = [];
  let v = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

/** A small table for a vector or matrix value (the render draws them the same way). */
export function matrixTable(value, digits = 3) {
  const rows = shapeOf(value).length === 1 ? value.map((v) => [v]) : value;
  return h('table', { class: 'matrix' },
    h('tbody', {}, rows.map((row) => h('tr', {}, row.map((v) => h('td', { text: fmt(v, digits) }))))));
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
