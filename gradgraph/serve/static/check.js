// Check: a graph and a hand derivation in, the verdict, the factor table and the wrong
// edge(s) highlighted on the diagram out.

import { fillExamplePicker, post, tooLong } from './api.js';
import { Diagram } from './diagram.js';
import { $, clear, copyText, say } from './dom.js';
import { setQuery } from './route.js';
import { verdictView } from './verdict.js';

let diagram;
let started = false;

function fields() {
  return {
    graph: $('#ck-graph').value, question: $('#ck-question').value.trim(),
    answer: $('#ck-answer').value, params: $('#ck-params').value.trim(),
    limits: $('#ck-limits').value.trim(),
  };
}

function saveUrl() {
  const f = fields();
  setQuery('check', [], { g: f.graph, q: f.question, a: f.answer, p: f.params, r: f.limits });
}

/** `x: 0..1; y: -1..1` → {x: [0, 1], y: [-1, 1]}; Error(one line) when unreadable. */
export function parseLimits(text) {
  const limits = {};
  for (const part of text.split(/[;\n]/).map((p) => p.trim()).filter(Boolean)) {
    const m = /^([^:]+):\s*(\S+?)\s*\.\.\s*(\S+)$/.exec(part);
    const lo = m ? Number(m[2]) : NaN;
    const hi = m ? Number(m[3]) : NaN;
    if (!m || !Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
      throw new Error(`“${part}”: write a range as name: low..high, like x: 0..1`);
    }
    limits[m[1].trim()] = [lo, hi];
  }
  return limits;
}

/** Which input an API error is about, so the message sits beside it. */
function errorTarget(err) {
  return /answer|expression|unknown function|at column|^your|parse/i.test(err.message)
    && !/graph|line \d+/i.test(err.message) ? '#ck-answer-error' : '#ck-graph-error';
}

/** The box an "invalid" verdict is about: the derivative box when the message names what
 * only it holds (an unknown name, no derivative at all), else the answer. */
export function unreadableTarget(message, question, answer) {
  if (/\banswer\b/i.test(message)) return '#ck-answer-error';
  if (/say which derivative/i.test(message)) return '#ck-question-error';
  const named = /no node named '([^']+)'/.exec(message);
  const inQuestion = named && question.includes(named[1]) && !answer.includes(named[1]);
  return inQuestion ? '#ck-question-error' : '#ck-answer-error';
}

/** The one line beside the input at fault; the last verdict goes, as it is not this input's. */
function fail(target, message) {
  say($(target), message);
  $('#ck-result').hidden = true;
  diagram.mark('gg-wrong', []);
}

async function submit(event) {
  event?.preventDefault();
  saveUrl();
  say($('#ck-graph-error'), '');
  say($('#ck-answer-error'), '');
  say($('#ck-question-error'), '');
  say($('#ck-limits-error'), '');
  const f = fields();
  let limits;
  try {
    limits = parseLimits(f.limits);
  } catch (err) {
    $('#ck-more').open = true;
    return fail('#ck-limits-error', err.message);
  }
  if (!f.graph.trim()) return fail('#ck-graph-error', 'Paste or pick a graph first.');
  if (!f.answer.trim()) return fail('#ck-answer-error', 'Type your derivative first.');
  const long = tooLong(f.graph, 'The graph text') ?? tooLong(f.answer, 'The answer');
  if (long) return fail(tooLong(f.graph, '') ? '#ck-graph-error' : '#ck-answer-error', long);
  const req = { graph: f.graph, answer: f.answer };
  if (f.question) req.question = f.question;
  if (f.params) req.params = f.params;
  if (Object.keys(limits).length) req.limits = limits;
  $('#ck-submit').disabled = true;
  let verdict;
  try {
    verdict = await post('/api/check', req);
  } catch (err) {
    fail(errorTarget(err), err.message);
    return;
  } finally {
    $('#ck-submit').disabled = false;
  }
  if (verdict.verdict === 'invalid') {
    // Unreadable input is not a verdict: say so beside the box at fault.
    return fail(unreadableTarget(verdict.message, f.question, f.answer), verdict.message.replace(/^!\s*invalid:\s*/, ''));
  }
  const result = $('#ck-result');
  result.hidden = false;
  clear(result, verdictView(verdict, { onEdge: (id) => diagram.mark('gg-lit', [id]) }));
  await drawDiagram(f, verdict.wrong_edges || []);
}

async function drawDiagram(f, wrong) {
  const box = $('#ck-diagram');
  box.hidden = false;
  try {
    const r = await post('/api/render', { graph: f.graph, ...(f.params ? { params: f.params } : {}), show: 'names,defs,partials' });
    diagram.show(r.svg, r.message);
  } catch (err) {
    diagram.show(null, err.message);
  }
  diagram.mark('gg-wrong', wrong);
}

function wire() {
  diagram = new Diagram($('#ck-diagram'));
  $('#ck-form').addEventListener('submit', submit);
  $('#ck-share').addEventListener('click', async () => {
    saveUrl();
    const ok = await copyText(window.location.href);
    $('#ck-share-msg').textContent = ok ? 'Link copied.' : window.location.href;
  });
  fillExamplePicker($('#ck-example'), (ex) => {
    $('#ck-graph').value = ex.graph;
    if (ex.wrt) $('#ck-question').value = `d${costOf(ex.graph)}/d${ex.wrt}`;
    saveUrl();
  }).catch((err) => say($('#ck-graph-error'), err.message));
}

/** The last defined name of a graph text: its cost, for a suggested question. */
export function costOf(text) {
  const lines = text.split(/[;\n]/).map((l) => l.replace(/#.*/, '').trim()).filter((l) => /^[^:=]+=/.test(l));
  return lines.length ? lines[lines.length - 1].split('=')[0].trim() : 'C';
}

export function show(r) {
  if (!started) {
    wire();
    started = true;
  }
  const q = r.query;
  if (q.get('g') === null) return;
  $('#ck-graph').value = q.get('g') || '';
  $('#ck-question').value = q.get('q') || '';
  $('#ck-answer').value = q.get('a') || '';
  $('#ck-params').value = q.get('p') || '';
  $('#ck-limits').value = q.get('r') || '';
  $('#ck-more').open = Boolean(q.get('r'));
  if (q.get('a')) submit();
}
