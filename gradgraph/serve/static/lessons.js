// Lessons: the list, then one lesson revealed step by step. Exercises are graded on the
// server; hints come one at a time; progress (answers, current step) stays in localStorage.

import { get, post, tooLong } from './api.js';
import { Diagram } from './diagram.js';
import { $, clear, h, say } from './dom.js';
import { derivationView, math } from './maths.js';
import { formatHash, setQuery } from './route.js';
import { proseFragment } from './safe.js';
import { TrainRun } from './train.js';
import { verdictView } from './verdict.js';

const LETTERS = 'abcdefghijkl';

// --- progress -------------------------------------------------------------------------

const key = (name) => `gradgraph.lesson.${name}`;

export function loadProgress(name) {
  try {
    const p = JSON.parse(localStorage.getItem(key(name)) || '{}');
    return { step: Number.isInteger(p.step) ? p.step : 0, answers: p.answers || {}, hints: p.hints || {} };
  } catch {
    return { step: 0, answers: {}, hints: {} };
  }
}

function saveProgress(name, progress) {
  try {
    localStorage.setItem(key(name), JSON.stringify(progress));
  } catch {
    // Private windows may refuse storage; the lesson still works, it just forgets.
  }
}

// --- the list -------------------------------------------------------------------------

async function showList(box) {
  clear(box, h('h1', { text: 'Lessons' }),
    h('p', { class: 'lede', text: 'From one neuron to a trained network, following the seminar deck. '
      + 'Your answers are graded by the same checker as the Check page; your progress stays in this browser.' }));
  let list;
  try {
    list = await get('/api/lessons');
  } catch (err) {
    box.append(h('p', { class: 'error', text: err.message }));
    return;
  }
  const ol = h('ol', { class: 'lesson-list' });
  for (const lesson of list) {
    const p = loadProgress(lesson.name);
    const done = Object.values(p.answers).filter((a) => a.correct).length;
    const href = formatHash('lessons', [lesson.name], {});
    // A teacher's file that does not load says why, on its card.
    const summary = lesson.error
      ? h('span', { class: 'summary error-text', text: lesson.error })
      : h('span', { class: 'summary', text: lesson.summary });
    const meter = lesson.error ? 'does not load'
      : lesson.exercises ? `${done}/${lesson.exercises} exercises` : 'reading';
    ol.append(h('li', {}, h('a', { href, class: lesson.error ? 'card broken' : 'card' },
      h('span', { class: 'num', text: lesson.number ?? '' }),
      h('span', { class: 'ctext' }, h('strong', { text: lesson.title }), summary),
      h('span', { class: 'meter', text: meter }))));
  }
  box.append(ol);
}

// --- one lesson -------------------------------------------------------------------------

let current = null; // {name, lesson, progress, box}

async function showLesson(box, name, query) {
  clear(box, h('p', { class: 'placeholder', text: 'Loading the lesson…' }));
  let lesson;
  try {
    lesson = await get(`/api/lessons/${encodeURIComponent(name)}`);
  } catch (err) {
    clear(box, h('p', { class: 'error', text: err.message }), h('a', { href: '#/lessons', text: '← all lessons' }));
    return;
  }
  const progress = loadProgress(name);
  const fromUrl = Number.parseInt(query.get('step') ?? '', 10);
  if (Number.isInteger(fromUrl) && fromUrl >= 0) progress.step = Math.max(progress.step, fromUrl);
  progress.step = Math.min(progress.step, lesson.steps.length - 1);
  current = { name, lesson, progress, box };
  drawLesson();
  if (Number.isInteger(fromUrl)) document.getElementById(`step-${fromUrl}`)?.scrollIntoView();
}

function drawLesson() {
  const { lesson, progress, box } = current;
  current.ol = h('ol', { class: 'steps' });
  lesson.steps.forEach((step, i) => { if (i <= progress.step) current.ol.append(stepView(step, i)); });
  current.toc = h('nav', { class: 'toc', attrs: { 'aria-label': 'steps' } }, h('ol', {}, lesson.steps.map((s, i) =>
    h('li', { class: i <= progress.step ? 'seen' : '' }, h('a', {
      href: `#step-${i}`, text: s.title || s.kind,
      on: { click: (e) => { e.preventDefault(); reveal(i); } },
    })))));
  current.cont = continueBar();
  clear(box,
    h('a', { href: '#/lessons', class: 'back', text: '← all lessons' }),
    h('header', { class: 'lesson-head' }, h('p', { class: 'kicker', text: `Lesson ${lesson.number ?? ''}` }),
      h('h1', { text: lesson.title }), h('p', { class: 'lede', text: lesson.summary || '' }), meter()),
    h('div', { class: 'lesson-grid' }, current.toc, h('div', { class: 'lesson-body' }, current.ol, current.cont)));
}

function meter() {
  const { lesson, progress } = current;
  const ids = lesson.steps.filter((s) => s.kind === 'exercise').map((s) => s.id);
  const done = ids.filter((id) => progress.answers[id]?.correct).length;
  const bar = h('progress', { max: Math.max(1, ids.length), value: done, attrs: { 'aria-label': 'exercises answered' } });
  return h('p', { class: 'meterline' }, bar, ` ${done} of ${ids.length} exercises answered correctly`);
}

function continueBar() {
  const { lesson, progress } = current;
  if (progress.step >= lesson.steps.length - 1) {
    return h('p', { class: 'endline' }, 'End of the lesson. ', h('a', { href: '#/lessons', text: 'Back to the lessons' }));
  }
  const next = lesson.steps[progress.step + 1];
  return h('div', { class: 'continue' }, h('button', {
    type: 'button', class: 'primary', id: 'ls-continue',
    text: `Continue: ${next.title || next.kind} →`, on: { click: () => reveal(progress.step + 1) },
  }));
}

/** Show steps up to `i` (appending, so answers typed so far stay) and scroll to it. */
function reveal(i) {
  const { name, lesson, progress } = current;
  if (i > progress.step) {
    for (let k = progress.step + 1; k <= i; k += 1) current.ol.append(stepView(lesson.steps[k], k));
    current.toc.querySelectorAll('li').forEach((li, k) => li.classList.toggle('seen', k <= i));
    progress.step = i;
    saveProgress(name, progress);
    const cont = continueBar();
    current.cont.replaceWith(cont);
    current.cont = cont;
  }
  setQuery('lessons', [name], { step: String(i) });
  const el = document.getElementById(`step-${i}`);
  el?.scrollIntoView({ behavior: 'smooth', block: 'start' });
  el?.querySelector('h2')?.focus({ preventScroll: true });
}

function stepView(step, i) {
  const li = h('li', { class: `step kind-${step.kind}`, id: `step-${i}` });
  li.append(h('h2', { tabIndex: -1 }, h('span', { class: 'num', text: `${i + 1}` }), step.title || ''));
  if (step.text_html) li.append(h('div', { class: 'prose' }, proseFragment(step.text_html)));
  const body = KINDS[step.kind]?.(step, i);
  if (body) li.append(body);
  return li;
}

// --- step kinds ---------------------------------------------------------------------------

function diagramStep(step) {
  const figure = h('figure', {});
  const frames = step.frames || [];
  const box = h('div', { class: 'diagram' });
  figure.append(box);
  const picture = new Diagram(box);
  if (frames.length) {
    let at = 0;
    const label = h('span', { class: 'count' });
    const draw = () => {
      picture.show(frames[at], step.message || 'No diagram.');
      label.textContent = `frame ${at + 1} of ${frames.length}`;
    };
    figure.append(h('div', { class: 'stepper' },
      h('button', { type: 'button', text: '← Back', on: { click: () => { at = Math.max(0, at - 1); draw(); } } }), label,
      h('button', { type: 'button', text: 'Step →', on: { click: () => { at = Math.min(frames.length - 1, at + 1); draw(); } } })));
    draw();
  } else if (step.svg || step.message || !step.graph) {
    picture.show(step.svg, step.message || 'No diagram.');
  } else {
    drawGraph(picture, step);
  }
  if (step.caption) figure.append(h('figcaption', { text: step.caption }));
  const link = playgroundLink(step);
  if (link) figure.append(link);
  return figure;
}

// A graph step carries only its text: draw it like the Playground does.
async function drawGraph(picture, step) {
  const body = { graph: step.graph };
  if (step.values) body.values = step.values;
  if (step.wrt) body.wrt = step.wrt;
  try {
    const r = await post('/api/render', body);
    picture.show(r.svg, r.message);
  } catch (err) {
    picture.show(null, err.message);
  }
}

function deriveStep(step) {
  if (!step.derivation) return null;
  return h('div', {}, derivationView(step.derivation), playgroundLink(step));
}

function playgroundLink(step) {
  if (!step.graph) return null;
  const href = formatHash('playground', [], { g: step.graph, v: step.values || '', wrt: step.wrt || '' });
  return h('p', { class: 'aside' }, h('a', { href, text: 'Open this graph in the Playground →' }));
}

function equationsStep(step) {
  const box = h('div', { class: 'equations' });
  if (step.label) box.append(h('p', { class: 'label', text: step.label }));
  for (const eq of step.equations || []) {
    box.append(h('p', { class: 'eqline' }, typeof eq === 'string' ? eq : math(eq)));
  }
  if (step.slides?.length) {
    box.append(h('p', { class: 'aside', text: 'On the slides:' }), h('pre', { class: 'plain', text: step.slides.join('\n') }));
  }
  if (step.erratum) box.append(h('p', { class: 'callout', text: step.erratum }));
  return box;
}

function trainStep(step) {
  if (!step.train) return step.command ? h('p', {}, 'Run it: ', h('code', { text: step.command })) : null;
  const parts = {
    lossSvg: svgChart(), accSvg: svgChart(), status: h('span', { class: 'status', attrs: { role: 'status' } }),
    error: h('p', { class: 'error', hidden: true }), result: h('section', { class: 'result', hidden: true }),
    startButton: h('button', { type: 'button', class: 'primary', text: 'Train it here' }),
    cancelButton: h('button', { type: 'button', text: 'Cancel', disabled: true }),
  };
  const run = new TrainRun(parts);
  parts.startButton.addEventListener('click', () => run.start(step.train));
  return h('div', { class: 'trainstep' },
    h('div', { class: 'actions' }, parts.startButton, parts.cancelButton, parts.status),
    step.command ? h('p', { class: 'aside' }, 'The same run in a terminal: ', h('code', { text: step.command })) : null,
    parts.error, h('div', { class: 'charts' }, parts.lossSvg, parts.accSvg), parts.result);
}

function svgChart() {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'chart');
  return svg;
}

function experimentStep(step) {
  return step.command ? h('p', {}, 'Run it in a terminal: ', h('code', { text: step.command })) : null;
}

// --- exercises ------------------------------------------------------------------------------

function exerciseStep(step) {
  const { name, progress } = current;
  const saved = progress.answers[step.id];
  const box = h('div', { class: 'exercise' });
  box.append(h('p', { class: 'label', text: 'Your turn' }));
  if (step.prompt_html) box.append(h('div', { class: 'prose' }, proseFragment(step.prompt_html)));
  const form = h('form', { class: 'answer' });
  const fieldId = `ex-${step.id}`;
  let read;
  if (step.choices?.length) {
    const fs = h('fieldset', {}, h('legend', { class: 'visually-hidden', text: 'choices' }));
    step.choices.forEach((c, i) => {
      const id = `${fieldId}-${i}`;
      const input = h('input', { type: 'radio', name: fieldId, id, value: LETTERS[i], checked: saved?.answer === LETTERS[i] });
      const label = h('label', { htmlFor: id }, h('span', { class: 'letter', text: `${LETTERS[i]})` }), ` ${c}`);
      fs.append(h('div', { class: 'choice' }, input, label));
    });
    form.append(fs);
    read = () => form.querySelector('input:checked')?.value ?? '';
  } else {
    const input = h('input', { type: 'text', id: fieldId, value: saved?.answer ?? '', spellcheck: false, autocapitalize: 'off', autocomplete: 'off',
      placeholder: step.check === 'number' ? 'a number, e.g. 0.12' : 'plain text, e.g. 2*(a - y)' });
    form.append(h('label', { htmlFor: fieldId, class: 'visually-hidden', text: 'your answer' }), input);
    read = () => input.value;
  }
  const hintButton = h('button', { type: 'button', class: 'quiet' });
  const hints = h('ol', { class: 'hints' });
  const feedback = h('div', { class: 'feedback', attrs: { 'aria-live': 'polite' } });
  const error = h('p', { class: 'error', hidden: true, attrs: { role: 'alert' } });
  form.append(h('button', { type: 'submit', class: 'primary', text: 'Check' }), hintButton);
  box.append(form, error, hints, feedback);
  setupHints(step, hints, hintButton);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const answer = read();
    // A new answer's problem replaces the last verdict, which was about another answer.
    const refuse = (message) => { clear(feedback); say(error, message); };
    if (!answer.trim()) return refuse('Write an answer first.');
    const long = tooLong(answer, 'The answer');
    if (long) return refuse(long);
    say(error, '');
    let verdict;
    try {
      verdict = await post(`/api/lessons/${encodeURIComponent(name)}/answer`, { exercise: step.id, answer });
    } catch (err) {
      refuse(err.message);
      return;
    }
    showVerdict(feedback, verdict);
    if (verdict.wrong_edges?.length && step.graph) showWrongEdges(feedback, step.graph, verdict.wrong_edges);
    progress.answers[step.id] = { answer, correct: verdict.correct === true };
    saveProgress(name, progress);
    const m = current.box.querySelector('.meterline');
    if (m) m.replaceWith(meter());
  });
  if (saved?.correct) {
    feedback.append(h('p', { class: 'verdict ok vline' }, h('span', { class: 'vmark', text: '✓' }),
      ' You answered this one correctly.'));
  }
  return box;
}

function showVerdict(box, verdict) {
  clear(box, verdictView(verdict, { showExpected: false }));
  if (!verdict.correct) return;
  if (verdict.explain_html) box.append(h('div', { class: 'explain' }, proseFragment(verdict.explain_html)));
  else if (verdict.explain) box.append(h('p', { class: 'explain', text: verdict.explain }));
}

// Where the slip is, on the exercise's graph; names and definitions only, so the picture
// points at the edge without printing its partial (the answer).
async function showWrongEdges(box, graph, wrong) {
  const picture = h('div', { class: 'diagram small' });
  box.append(h('p', { class: 'aside', text: 'The edge where your chain goes wrong:' }), picture);
  const diagram = new Diagram(picture);
  try {
    const r = await post('/api/render', { graph, show: 'names,defs' });
    diagram.show(r.svg, r.message);
  } catch (err) {
    diagram.show(null, err.message);
  }
  diagram.mark('gg-wrong', wrong);
}

function setupHints(step, list, button) {
  const { name, progress } = current;
  const shown = progress.hints[step.id] || [];
  for (const hint of shown) list.append(hintItem(hint));
  const total = step.hints_count ?? 0;
  const label = () => {
    const left = total - shown.length;
    button.textContent = left > 0 ? `Hint (${left} left)` : 'No more hints';
    button.disabled = left <= 0;
  };
  label();
  button.addEventListener('click', async () => {
    try {
      const r = await post(`/api/lessons/${encodeURIComponent(name)}/hint`, { exercise: step.id, shown: shown.length });
      if (r.hint) {
        shown.push(r.hint);
        list.append(hintItem(r.hint, r.hint_html));
        progress.hints[step.id] = shown;
        saveProgress(name, progress);
      }
    } catch (err) {
      list.append(h('li', { class: 'error', text: err.message }));
    }
    label();
  });
}

function hintItem(text, html) {
  return html ? h('li', {}, proseFragment(html)) : h('li', { text });
}

const KINDS = {
  graph: diagramStep, diagram: diagramStep, derive: deriveStep, exercise: exerciseStep,
  equations: equationsStep, train: trainStep, experiment: experimentStep,
};

export async function show(r) {
  const box = $('#ls-body');
  const [name] = r.rest;
  if (!name) {
    current = null;
    await showList(box);
  } else if (current?.name !== name) {
    await showLesson(box, name, r.query);
  }
}
