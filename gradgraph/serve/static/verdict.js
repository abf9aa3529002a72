// A checker Verdict (docs/serve-api.md) as a block: the verdict line, the message, the
// factor-by-factor table and a counterexample. Shared by the Check page and lessons.

import { fmt, h } from './dom.js';
import { math } from './maths.js';

/** A factor field: plain text, or a {unicode, mathml} pair. */
function cell(x) {
  if (x && typeof x === 'object') return math(x);
  return x ?? '—';
}

const LOOK = {
  correct: { mark: '✓', cls: 'ok', word: 'Correct' },
  'not equal': { mark: '✗', cls: 'bad', word: 'Not equal' },
  undecided: { mark: '?', cls: 'unsure', word: 'Undecided' },
  invalid: { mark: '!', cls: 'bad', word: 'Cannot read this answer' },
};

export function verdictLook(v) {
  return LOOK[v.verdict] ?? (v.correct ? LOOK.correct : LOOK['not equal']);
}

/** A misconception code and its reason (`gradgraph check --no-reveal` words them so). */
function slip(code, why) {
  return [h('code', { class: 'slip-code', text: code }), why ? ` ${why}` : ''];
}

/** The note cell: the factor's code and why, else the checker's plain note. */
function slipNote(f) {
  return f.code ? slip(f.code, f.why) : (f.note ?? '');
}

/** Slips as a list, each code with its reason. */
function slipList(slips) {
  return h('ul', { class: 'slips', attrs: { 'aria-label': 'Misconception codes' } },
    slips.map((s) => h('li', {}, slip(s.code, s.why))));
}

function factorTable(factors, onEdge) {
  const rows = factors.map((f) => {
    const tr = h('tr', { class: f.ok === false ? 'wrong' : f.ok ? 'right' : '' },
      h('td', { class: 'mark', text: f.ok === false ? '✗' : f.ok ? '✓' : '·' }),
      h('td', { class: 'math' }, cell(f.symbol)),
      h('td', { class: 'math' }, cell(f.yours)),
      h('td', { class: 'math expected' }, f.ok === false ? cell(f.expected) : ''),
      h('td', { class: 'note' }, slipNote(f)));
    if (f.edge && onEdge) {
      tr.tabIndex = 0;
      tr.addEventListener('mouseenter', () => onEdge(f.edge));
      tr.addEventListener('focus', () => onEdge(f.edge));
    }
    return tr;
  });
  return h('table', { class: 'factortable' },
    h('thead', {}, h('tr', {}, h('th', { attrs: { scope: 'col' } }, h('span', { class: 'visually-hidden', text: 'ok' })),
      ['factor', 'yours', 'expected', 'note'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows));
}

/** The checker's message without the mark and verdict word the page already shows. */
export function plainMessage(message) {
  return String(message).replace(/^[✓✗?!]\s*(correct|not equal|undecided|invalid)?\s*[.:—-]?\s*/i, '');
}

/** `showExpected`: lessons hide the expected factor until the student asks for it. */
export function verdictView(v, { onEdge, showExpected = true } = {}) {
  const look = verdictLook(v);
  const box = h('div', { class: `verdict ${look.cls}` },
    h('p', { class: 'vline' }, h('span', { class: 'vmark', attrs: { 'aria-hidden': 'true' }, text: look.mark }),
      h('strong', { text: look.word }), v.message ? ` — ${plainMessage(v.message)}` : ''));
  const factors = v.factors || [];
  // The slips of the whole answer (a path left out, a sum for a product): those the
  // factor table does not already show on a row.
  const onRows = new Set(factors.map((f) => f.code).filter(Boolean));
  const whole = (v.slips || []).filter((s) => !onRows.has(s.code));
  if (whole.length) box.append(slipList(whole));
  if (factors.length) {
    const table = factorTable(factors, onEdge);
    if (!showExpected) table.classList.add('hide-expected');
    box.append(h('h3', { text: 'Factor by factor' }), table);
  }
  // The message already names the point where they differ; say it only when it does not.
  const at = v.counterexample?.at ?? v.counterexample;
  if (!v.message && at && Object.keys(at).length) {
    const where = Object.entries(at).map(([k, x]) => `${k} = ${fmt(x)}`).join(', ');
    box.append(h('p', { class: 'aside', text: `They differ at ${where}.` }));
  }
  return box;
}
