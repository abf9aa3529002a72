// Playground: type a graph, see it drawn, click a node for its adjoint's derivation, move
// the leaf values and watch values and adjoints change, step the backward pass with ←/→.

import { ApiError, examples, fillExamplePicker, post, tooLong } from './api.js';
import { Diagram } from './diagram.js';
import { $, Superseded, clear, copyText, debounce, fmt, h, latest, matrixTable, say, shapeOf } from './dom.js';
import { derivationView, math } from './maths.js';
import { jsonParam, route, setQuery } from './route.js';
import { sliderRange } from './values.js';

const ROLE_NAMES = { param: 'parameter', input: 'input', intermediate: 'intermediate', cost: 'output', const: 'constant' };

const S = {
  text: '', params: '', values: {}, wrt: '', step: -1, sel: null, expand: false,
  structure: null, numbers: null,
};
const latestGraph = latest();
const latestEval = latest();
const latestRender = latest();
const latestDerive = latest();
let diagram;
let started = false;

function body(extra = {}) {
  const b = { graph: S.text };
  if (S.params.trim()) b.params = S.params.trim();
  return { ...b, ...extra };
}

function saveUrl() {
  setQuery('playground', [], {
    g: S.text, p: S.params, v: Object.keys(S.values).length ? S.values : '',
    wrt: S.wrt, step: S.step >= 0 ? String(S.step) : '', sel: S.sel || '',
  });
}

function nodeById(id) {
  return S.structure?.nodes.find((n) => n.id === id) ?? null;
}

function nodeByName(name) {
  return S.structure?.nodes.find((n) => n.name === name) ?? null;
}

// --- the graph ----------------------------------------------------------------------

async function loadGraph() {
  saveUrl();
  if (!S.text.trim()) {
    say($('#pg-error'), 'Type a graph, for example: z = w*x + b; a = sigma(z); C = (a - y)^2');
    return;
  }
  const long = tooLong(S.text, 'The graph text');
  if (long) {
    say($('#pg-error'), long);
    diagram.stale();
    return;
  }
  let structure;
  try {
    structure = await latestGraph(post('/api/graph', body()));
  } catch (err) {
    if (err instanceof Superseded) return;
    say($('#pg-error'), err.message);
    diagram.stale();
    return;
  }
  say($('#pg-error'), '');
  S.structure = structure;
  adoptStructure();
  await refreshAll();
}

function adoptStructure() {
  const st = S.structure;
  const values = {};
  for (const leaf of st.leaves) values[leaf] = leaf in S.values ? S.values[leaf] : st.defaults[leaf];
  S.values = values;
  if (S.wrt && !nodeByName(S.wrt)) S.wrt = '';
  if (S.step >= st.backward.length) S.step = -1;
  if (S.openWith) S.sel = nodeByName(S.openWith)?.id ?? null; // a fresh example opens on its derivation
  S.openWith = null;
  if (S.sel && !nodeById(S.sel) && !st.edges.some((e) => e.id === S.sel)) S.sel = null;
  diagram.setNames(Object.fromEntries(st.nodes.map((n) => [n.id, n.unicode || n.name])));
  diagram.select(S.sel);
  buildLeafControls();
  buildWrtPicker();
  $('#pg-wrt-of').textContent = `∂${nodeByName(st.cost)?.unicode ?? st.cost}`;
  $('#pg-adj-head').textContent = `∂${nodeByName(st.cost)?.unicode ?? st.cost}/∂node`;
  showStep();
}

async function refreshAll() {
  await Promise.all([evaluate(), render(), inspect()]);
}

// --- leaf values --------------------------------------------------------------------

function buildLeafControls() {
  const box = clear($('#pg-values'));
  badValues.clear();
  sayValueProblems();
  for (const name of S.structure.leaves) {
    const node = nodeByName(name);
    box.append(Array.isArray(S.values[name]) ? tensorControl(node) : scalarControl(node));
  }
}

function leafLabel(node, forId) {
  return h('label', { htmlFor: forId, class: `leafname role-${node.role}` },
    h('span', { class: 'swatch', attrs: { 'aria-hidden': 'true' } }), node.unicode || node.name,
    h('span', { class: 'aside', text: ` ${ROLE_NAMES[node.role] ?? node.role}` }));
}

function scalarControl(node) {
  const id = `pg-leaf-${node.id}`;
  const value = Number(S.values[node.name]);
  const [lo, hi, step] = sliderRange(value);
  const number = h('input', { type: 'number', id, step: 'any', value: String(value), class: 'num' });
  const slider = h('input', {
    type: 'range', min: String(lo), max: String(hi), step: String(step), value: String(value),
    attrs: { 'aria-label': `${node.name} slider` },
  });
  const set = (v, redraw) => {
    S.values[node.name] = v;
    evaluateSoon();
    if (redraw) redrawSoon.flush();
  };
  number.addEventListener('input', () => {
    const v = Number(number.value);
    const problem = valueProblem(number, v);
    badValues.set(node.unicode || node.name, problem);
    sayValueProblems();
    if (problem) return; // the numbers shown stay those of the last good value
    if (v >= Number(slider.min) && v <= Number(slider.max)) slider.value = String(v);
    set(v, false);
  });
  number.addEventListener('change', () => redrawSoon.flush());
  slider.addEventListener('input', () => {
    number.value = slider.value;
    set(Number(slider.value), false);
  });
  slider.addEventListener('change', () => set(Number(slider.value), true)); // released
  return h('div', { class: 'leaf' }, leafLabel(node, id), number, slider);
}

// Leaves whose box holds no usable number, with the line that says why (null: fine).
const badValues = new Map();

function valueProblem(input, v) {
  if (input.validity.badInput) return 'is not a number';
  if (input.value.trim() === '') return 'is empty: type a number';
  if (!Number.isFinite(v)) return 'is too large: type a finite number';
  return null;
}

function sayValueProblems() {
  const first = [...badValues].find(([, problem]) => problem);
  if (first) return say($('#pg-values-error'), `${first[0]} ${first[1]} (the numbers below are for its last value).`);
  say($('#pg-values-error'), overflowLine());
}

/** The server sends null for a value or adjoint that is not finite: say which, once. */
function overflowLine() {
  if (!S.numbers || !S.structure) return '';
  const hasNull = (v) => (Array.isArray(v) ? v.some(hasNull) : v === null);
  const names = S.structure.nodes.filter((n) => hasNull(S.numbers.values[n.name])
    || hasNull(S.numbers.adjoints[n.name])).map((n) => n.unicode || n.name);
  if (!names.length) return '';
  return `${names.join(', ')} overflow${names.length === 1 ? 's' : ''} at these values (shown as —): try smaller numbers.`;
}

function tensorControl(node) {
  const id = `pg-leaf-${node.id}`;
  const input = h('input', { type: 'text', id, value: JSON.stringify(S.values[node.name]), class: 'tensor', spellcheck: false });
  input.addEventListener('change', () => {
    let v;
    try {
      v = JSON.parse(input.value);
    } catch {
      say($('#pg-values-error'), `${node.name}: write a nested list of numbers, like [[1, 2], [3, 4]]`);
      return;
    }
    say($('#pg-values-error'), '');
    S.values[node.name] = v;
    evaluateSoon.flush();
    redrawSoon.flush();
  });
  return h('div', { class: 'leaf tensor' }, leafLabel(node, id),
    h('span', { class: 'aside', text: ` shape ${shapeOf(S.values[node.name]).join('×')}` }), input);
}

async function evaluate() {
  saveUrl();
  let result;
  try {
    result = await latestEval(post('/api/evaluate', body({ values: S.values })));
  } catch (err) {
    if (err instanceof Superseded) return;
    say($('#pg-values-error'), err.message);
    return;
  }
  S.numbers = result;
  sayValueProblems();
  showNumbers();
  refreshInspectorNumbers();
}

const evaluateSoon = debounce(() => evaluate(), 90);
const redrawSoon = debounce(() => { render(); inspect(); }, 250);

function showNumbers() {
  const tbody = clear($('#pg-numbers tbody'));
  const { values, adjoints } = S.numbers;
  for (const node of S.structure.nodes) {
    const tr = h('tr', { class: `role-${node.role}` },
      h('th', { scope: 'row' }, h('button', {
        type: 'button', class: 'link', text: node.unicode || node.name,
        on: { click: () => pick(node.id, 'node') },
      })),
      h('td', { class: 'num', text: fmt(values[node.name]) }),
      h('td', { class: 'num', text: fmt(adjoints[node.name]) }));
    tr.dataset.node = node.id;
    tr.classList.toggle('current', node.id === S.sel);
    tbody.append(tr);
  }
}

// --- the diagram ----------------------------------------------------------------------

async function render() {
  const stepping = S.step >= 0;
  const req = body({ values: S.values });
  if (stepping) req.step = S.step;
  else if (S.wrt) req.wrt = S.wrt;
  let result;
  try {
    result = await latestRender(post('/api/render', req));
  } catch (err) {
    if (err instanceof Superseded) return;
    diagram.show(null, err.message);
    return;
  }
  diagram.show(result.svg, result.message);
}

function pick(id, kind) {
  // Picking is idempotent: the page opens with a node selected, and a first click on it
  // must show its derivation, not hide it.
  S.sel = id;
  S.expand = false;
  diagram.select(S.sel);
  saveUrl();
  inspect();
  if (S.numbers) showNumbers();
  if (kind === 'node' && S.sel) $('#pg-inspector').scrollIntoView({ block: 'nearest', behavior: 'smooth' });
}

// --- the inspector ------------------------------------------------------------------------

async function inspect() {
  const box = $('#pg-inspector');
  if (!S.structure || !S.sel) {
    clear(box, h('p', { class: 'placeholder' },
      'Nothing selected yet. Click a node for its adjoint’s derivation, or an edge for its local partial.'));
    return;
  }
  const node = nodeById(S.sel);
  if (node) await inspectNode(box, node);
  else inspectEdge(box, S.structure.edges.find((e) => e.id === S.sel));
}

function nodeHeader(node) {
  // The definition already starts with the node's name (z = w·x + b); leaves have none.
  const title = node.definition ?? { unicode: node.unicode, mathml: node.mathml };
  return h('div', { class: 'ihead' },
    h('span', { class: `badge role-${node.role}`, text: ROLE_NAMES[node.role] ?? node.role }),
    h('h2', {}, math(title)));
}

function numbersLine(node) {
  const line = h('p', { class: 'inumbers', id: 'pg-inumbers' });
  fillNumbersLine(line, node);
  return line;
}

function fillNumbersLine(line, node) {
  if (!S.numbers) return;
  const cost = S.structure.cost;
  const shown = (x, cls) => (Array.isArray(x) && shapeOf(x).length <= 2 && x.flat().length <= 36
    ? matrixTable(x) : h('strong', { class: cls, text: fmt(x) }));
  clear(line, 'value ', shown(S.numbers.values[node.name], ''), '   ·   ',
    `∂${nodeByName(cost)?.unicode ?? cost}/∂${node.unicode || node.name} `,
    shown(S.numbers.adjoints[node.name], 'adjoint'));
}

function refreshInspectorNumbers() {
  const line = $('#pg-inumbers');
  const node = nodeById(S.sel);
  if (line && node) fillNumbersLine(line, node);
}

async function inspectNode(box, node) {
  const cost = S.structure.cost;
  const parts = [nodeHeader(node), numbersLine(node)];
  if (node.name === cost) {
    const u = node.unicode;
    clear(box, ...parts, h('p', {}, `This is the output. Its own adjoint is ∂${u}/∂${u} = 1: the backward pass starts here.`));
    return;
  }
  clear(box, ...parts, h('p', { class: 'placeholder', text: 'Deriving…' }));
  let d;
  try {
    d = await latestDerive(post('/api/derive', body({ wrt: node.name, values: S.values, expand: S.expand })));
  } catch (err) {
    if (err instanceof Superseded) return;
    clear(box, ...parts, h('p', { class: 'error', text: err.message }));
    return;
  }
  const view = derivationView(d, {
    onExpand: () => { S.expand = true; inspect(); },
    onFactor: (edge) => diagram.mark('gg-lit', edge ? [edge] : []),
  });
  clear(box, ...parts, h('h3', { text: 'How the adjoint is built' }), view);
}

function inspectEdge(box, edge) {
  if (!edge) return;
  const parent = nodeByName(edge.parent);
  const child = nodeByName(edge.child);
  const c = nodeByName(S.structure.cost)?.unicode ?? S.structure.cost;
  const pu = parent?.unicode ?? edge.parent;
  const cu = child?.unicode ?? edge.child;
  const partial = h('p', { class: 'big' });
  if (edge.symbol) partial.append(math(edge.symbol));
  if (edge.symbol && edge.partial) partial.append(h('span', { class: 'eqsign', text: ' = ' }));
  if (edge.partial) partial.append(math(edge.partial));
  const derivationButton = (node, u) => h('button', {
    type: 'button', text: `Derivation of ∂${c}/∂${u}`, on: { click: () => pick(node.id, 'node') },
  });
  clear(box,
    h('div', { class: 'ihead' }, h('span', { class: 'badge edge', text: 'edge' }), h('h2', { text: `${pu} → ${cu}` })),
    partial,
    h('p', {}, `The local partial: how much ${cu} moves when ${pu} moves, everything else held still. `
      + `In the backward pass this edge carries ∂${c}/∂${cu} back to ${pu}: ∂${c}/∂${pu} += ∂${cu}/∂${pu} · ∂${c}/∂${cu}.`),
    edge.partial
      ? h('p', { class: 'unicode-line' }, h('code', { text: `${edge.symbol?.unicode ?? ''} = ${edge.partial.unicode}` }))
      : null,
    h('div', { class: 'actions' },
      parent ? derivationButton(parent, pu) : null,
      child && child.name !== S.structure.cost ? derivationButton(child, cu) : null));
}

// --- the chain and the backward pass --------------------------------------------------

function buildWrtPicker() {
  const select = $('#pg-wrt');
  clear(select, h('option', { value: '', text: '(none)' }));
  for (const node of S.structure.nodes) {
    if (node.name === S.structure.cost) continue;
    select.append(h('option', { value: node.name, text: node.unicode || node.name }));
  }
  select.value = S.wrt;
}

function showStep() {
  const steps = S.structure?.backward ?? [];
  const count = $('#pg-step-count');
  const line = $('#pg-step');
  $('#pg-prev').disabled = S.step < 0;
  $('#pg-next').disabled = S.step >= steps.length - 1;
  $('#pg-stop').hidden = S.step < 0;
  if (S.step < 0) {
    count.textContent = `Backward pass · ${steps.length} edges`;
    say(line, '');
    diagram.mark('gg-lit', []);
    return;
  }
  const step = steps[S.step];
  count.textContent = `Edge ${S.step + 1} of ${steps.length}`;
  line.hidden = false;
  // The first step says where the pass starts: the output's own adjoint is 1.
  const seed = S.step === 0 && S.structure.seed
    ? [h('span', { class: 'seed' }, 'Start with ', math(S.structure.seed), ', then')] : [];
  clear(line, h('span', { class: 'stepno', text: `Step ${S.step + 1}` }), ...seed,
    math({ unicode: step.text, mathml: step.mathml }),
    h('code', { class: 'copy', text: step.text }));
}

function stepTo(i) {
  const steps = S.structure?.backward ?? [];
  const next = Math.max(-1, Math.min(steps.length - 1, i));
  if (next === S.step) return;
  S.step = next;
  showStep();
  saveUrl();
  render();
}

function onKey(event) {
  if (route().view !== 'playground' || event.altKey || event.ctrlKey || event.metaKey) return;
  const t = event.target;
  if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
  if (event.key === 'ArrowRight') stepTo(S.step + 1);
  else if (event.key === 'ArrowLeft') stepTo(S.step - 1);
  else if (event.key === 'Escape') stepTo(-1);
  else return;
  event.preventDefault();
}

// --- set-up ---------------------------------------------------------------------------

function useExample(ex) {
  S.text = ex.graph;
  S.params = '';
  S.values = { ...(ex.values || {}) };
  S.wrt = ex.wrt || '';
  S.step = -1;
  S.sel = null;
  S.openWith = ex.wrt || null;
  $('#pg-text').value = S.text;
  $('#pg-params').value = '';
  loadGraph();
}

function wire() {
  diagram = new Diagram($('#pg-diagram'), { onPick: pick });
  const text = $('#pg-text');
  const reload = debounce(() => loadGraph(), 350);
  text.addEventListener('input', () => {
    S.text = text.value;
    $('#pg-example').value = '';
    reload();
  });
  $('#pg-params').addEventListener('input', (e) => { S.params = e.target.value; reload(); });
  $('#pg-wrt').addEventListener('change', (e) => {
    S.wrt = e.target.value;
    S.step = -1;
    showStep();
    saveUrl();
    render();
  });
  $('#pg-prev').addEventListener('click', () => stepTo(S.step - 1));
  $('#pg-next').addEventListener('click', () => stepTo(S.step + 1));
  $('#pg-stop').addEventListener('click', () => stepTo(-1));
  $('#pg-share').addEventListener('click', async () => {
    saveUrl();
    const ok = await copyText(window.location.href);
    $('#pg-share-msg').textContent = ok ? 'Link copied: it opens this graph, these values and this step.' : window.location.href;
  });
  document.addEventListener('keydown', onKey);
  fillExamplePicker($('#pg-example'), useExample).catch((err) => say($('#pg-error'), err.message));
}

/** Enter the view: state from the URL, or the first bundled graph. */
export async function show(r) {
  if (!started) {
    wire();
    started = true;
  }
  const q = r.query;
  const g = q.get('g');
  if (g === null && S.text) {
    saveUrl();
    return;
  }
  if (g === null) {
    try {
      const list = await examples();
      if (list.length) {
        $('#pg-example').value = list[0].name;
        useExample(list[0]);
      }
    } catch (err) {
      say($('#pg-error'), err instanceof ApiError ? err.message : String(err));
    }
    return;
  }
  if (g === S.text) return; // our own URL update
  S.text = g;
  S.params = q.get('p') || '';
  S.values = jsonParam(q, 'v', {}) || {};
  S.wrt = q.get('wrt') || '';
  S.step = Number.parseInt(q.get('step') ?? '-1', 10);
  if (!Number.isFinite(S.step)) S.step = -1;
  S.sel = q.get('sel') || null;
  $('#pg-text').value = S.text;
  $('#pg-params').value = S.params;
  await loadGraph();
}
