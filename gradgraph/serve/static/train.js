// Train: every option `gradgraph train` has, curves drawn live from server-sent events,
// Cancel, then the trained model's graph and derivation. `TrainRun` is reused by lessons.

import { post } from './api.js';
import { drawChart } from './chart.js';
import { Diagram } from './diagram.js';
import { $, clear, fmt, h, say } from './dom.js';
import { derivationView } from './maths.js';
import { jsonParam, setQuery } from './route.js';

const OPTIMIZERS = ['sgd', 'momentum', 'nesterov', 'sign', 'adagrad', 'rmsprop', 'adam', 'adamax', 'adamw'];
const ADAMS = ['adam', 'adamax', 'adamw'];

// key, label, kind, default, and which optimizer / schedule the field belongs to.
export const FIELDS = [
  { group: 'Network' },
  { key: 'hidden', label: 'Hidden layers', kind: 'text', value: '100', hint: 'units per layer: 100 or 64,32' },
  { key: 'activation', label: 'Activation', kind: 'select', value: 'tanh', options: ['tanh', 'sigmoid', 'relu', 'softplus'] },
  { group: 'Optimizer' },
  { key: 'optimizer', label: 'Optimizer', kind: 'select', value: 'sgd', options: OPTIMIZERS },
  { key: 'lr', label: 'Learning rate ε', kind: 'number', value: '0.1', hint: 'empty: the optimizer’s default' },
  { key: 'momentum', label: 'Momentum μ', kind: 'number', value: '', hint: '0.9', only: ['sgd', 'momentum', 'nesterov'] },
  { key: 'nesterov', label: 'Nesterov', kind: 'check', only: ['sgd'] },
  { key: 'beta_1', label: 'β₁', kind: 'number', value: '', hint: '0.9', only: ADAMS },
  { key: 'beta_2', label: 'β₂', kind: 'number', value: '', hint: '0.999', only: ADAMS },
  { key: 'rho', label: 'ρ (decay)', kind: 'number', value: '', hint: '0.9', only: ['rmsprop'] },
  { key: 'epsilon', label: 'ε (stability)', kind: 'number', value: '', hint: 'default', only: ['adagrad', 'rmsprop', ...ADAMS] },
  { group: 'Learning-rate schedule' },
  { key: 'schedule', label: 'Schedule', kind: 'select', value: '', options: ['', 'step', 'exponential', 'inverse-time', 'linear', 'cosine'],
    names: { '': 'constant', step: 'step decay', exponential: 'exponential', 'inverse-time': '1/t', linear: 'linear to a floor', cosine: 'cosine' } },
  { key: 'every', label: 'every (epochs)', kind: 'number', value: '5', sched: ['step'] },
  { key: 'factor', label: 'factor', kind: 'number', value: '0.5', sched: ['step'] },
  { key: 'rate', label: 'rate', kind: 'number', value: '0.05', sched: ['exponential'] },
  { key: 'decay', label: 'decay', kind: 'number', value: '0.1', sched: ['inverse-time'] },
  { key: 'tau', label: 'τ (epochs)', kind: 'number', value: '10', sched: ['linear'] },
  { key: 'total', label: 'total (epochs)', kind: 'number', value: '15', sched: ['cosine'] },
  { key: 'floor', label: 'floor', kind: 'number', value: '0.01', sched: ['linear', 'cosine'] },
  { group: 'Regularisation' },
  { key: 'l1', label: 'L1 λ', kind: 'number', value: '', hint: '0' },
  { key: 'l2', label: 'L2 λ', kind: 'number', value: '', hint: '0' },
  { key: 'dropout', label: 'Dropout rate', kind: 'number', value: '', hint: '0' },
  { key: 'batchnorm', label: 'Batch normalisation', kind: 'check' },
  { group: 'Run' },
  { key: 'epochs', label: 'Epochs', kind: 'number', value: '15' },
  { key: 'batch_size', label: 'Batch size', kind: 'number', value: '32' },
  { key: 'seed', label: 'Seed', kind: 'number', value: '0' },
];

const SCHEDULE_KEYS = ['every', 'factor', 'rate', 'decay', 'tau', 'total', 'floor'];

function control(f, id) {
  if (f.kind === 'select') {
    const select = h('select', { id, name: f.key });
    for (const o of f.options) select.append(h('option', { value: o, text: f.names?.[o] ?? o }));
    select.value = f.value;
    return select;
  }
  if (f.kind === 'check') return h('input', { type: 'checkbox', id, name: f.key });
  return h('input', {
    type: f.kind === 'number' ? 'number' : 'text', id, name: f.key, value: f.value ?? '',
    placeholder: f.hint ?? '', step: 'any', spellcheck: false,
  });
}

/** Build the options form into `form` (ids prefixed by `prefix`). */
export function buildForm(form, prefix = 'tr') {
  clear(form);
  let fieldset = null;
  for (const f of FIELDS) {
    if (f.group) {
      fieldset = h('fieldset', {}, h('legend', { text: f.group }));
      form.append(fieldset);
      continue;
    }
    const id = `${prefix}-${f.key}`;
    const input = control(f, id);
    const wrap = f.kind === 'check'
      ? h('div', { class: 'field check' }, input, h('label', { htmlFor: id, text: f.label }))
      : h('div', { class: 'field' }, h('label', { htmlFor: id, text: f.label }), input);
    if (f.only) wrap.dataset.only = f.only.join(' ');
    if (f.sched) wrap.dataset.sched = f.sched.join(' ');
    fieldset.append(wrap);
  }
  form.addEventListener('change', (event) => {
    // Each optimizer has its own sensible step size: sgd keeps the deck's 0.1.
    if (event.target.name === 'optimizer') form.elements.lr.value = event.target.value === 'sgd' ? '0.1' : '';
    showRelevant(form);
  });
  showRelevant(form);
}

function showRelevant(form) {
  const opt = form.elements.optimizer.value;
  const sched = form.elements.schedule.value;
  for (const el of form.querySelectorAll('[data-only]')) el.hidden = !el.dataset.only.split(' ').includes(opt);
  for (const el of form.querySelectorAll('[data-sched]')) el.hidden = !el.dataset.sched.split(' ').includes(sched);
}

/** The form as a TrainOptions body; throws Error(one line) for a field that is not a number. */
export function readForm(form) {
  const body = { data: 'digits' };
  const opt = form.elements.optimizer.value;
  const sched = form.elements.schedule.value;
  for (const f of FIELDS) {
    if (!f.key || f.key === 'schedule' || SCHEDULE_KEYS.includes(f.key)) continue;
    if (f.only && !f.only.includes(opt)) continue;
    const el = form.elements[f.key];
    if (f.kind === 'check') { if (el.checked) body[f.key] = true; continue; }
    const text = el.value.trim();
    if (text === '') continue;
    body[f.key] = f.key === 'hidden' ? parseHidden(text) : f.kind === 'number' ? number(f, text) : text;
  }
  if (sched) {
    body.schedule = { kind: sched };
    for (const key of SCHEDULE_KEYS) {
      const f = FIELDS.find((x) => x.key === key);
      if (f.sched.includes(sched)) body.schedule[key] = number(f, form.elements[key].value.trim());
    }
  }
  return body;
}

function number(f, text) {
  const v = Number(text);
  if (text === '' || !Number.isFinite(v)) throw new Error(`${f.label}: “${text}” is not a number`);
  return v;
}

export function parseHidden(text) {
  const parts = text.split(/[,\s]+/).filter(Boolean);
  const sizes = parts.map(Number);
  if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`Hidden layers: write whole numbers separated by commas, like 100 or 64,32 (got “${text}”)`);
  }
  return sizes;
}

/** Fill the form from a TrainOptions body (from a link or a lesson). */
export function fillForm(form, body) {
  for (const [key, value] of Object.entries(body || {})) {
    const el = form.elements[key];
    if (!el) continue;
    if (el.type === 'checkbox') el.checked = Boolean(value);
    else el.value = key === 'hidden' && Array.isArray(value) ? value.join(',') : String(value);
  }
  if (body?.schedule?.kind) {
    form.elements.schedule.value = body.schedule.kind;
    for (const key of SCHEDULE_KEYS) if (key in body.schedule) form.elements[key].value = String(body.schedule[key]);
  }
  showRelevant(form);
}

/** One training run drawn into a box: charts while it runs, the model when done. */
export class TrainRun {
  constructor({ lossSvg, accSvg, status, error, result, startButton, cancelButton }) {
    Object.assign(this, { lossSvg, accSvg, status, error, result, startButton, cancelButton });
    this.source = null;
    this.job = null;
    cancelButton?.addEventListener('click', () => this.cancel());
  }

  async start(body) {
    this.stop();
    this.history = { loss: [], accuracy: [], val_loss: [], val_accuracy: [] };
    this.epochs = body.epochs ?? 15;
    say(this.error, '');
    this.result.hidden = true;
    this.draw();
    this.setRunning(true, 'Starting…');
    try {
      this.job = (await post('/api/train', body)).job;
    } catch (err) {
      this.setRunning(false, '');
      say(this.error, err.message);
      return;
    }
    this.listen(this.job);
  }

  listen(job) {
    const source = new EventSource(`/api/train/${encodeURIComponent(job)}/events`);
    this.source = source;
    source.addEventListener('epoch', (e) => this.onEpoch(JSON.parse(e.data)));
    source.addEventListener('done', (e) => this.onDone(JSON.parse(e.data)));
    source.addEventListener('cancelled', (e) => {
      const epochs = e.data ? JSON.parse(e.data).epochs : null;
      const after = Number.isInteger(epochs) ? ` after ${epochs} epoch${epochs === 1 ? '' : 's'}` : '';
      this.finish(`Cancelled${after}.`);
    });
    source.addEventListener('error', (e) => {
      if (e.data) say(this.error, JSON.parse(e.data).message);
      else if (this.source) say(this.error, 'the training stream was interrupted');
      this.finish('Stopped.');
    });
  }

  onEpoch(ep) {
    for (const key of Object.keys(this.history)) this.history[key].push(ep[key] ?? NaN);
    this.status.textContent = `Epoch ${ep.epoch} of ${this.epochs} · loss ${fmt(ep.loss, 3)} · accuracy ${fmt(ep.accuracy, 3)}`;
    this.draw();
  }

  draw() {
    const hist = this.history;
    drawChart(this.lossSvg, { title: 'Loss', epochs: this.epochs, series: [
      { name: 'train', values: hist.loss, cls: 'train' },
      { name: 'validation', values: hist.val_loss, cls: 'val' }] });
    drawChart(this.accSvg, { title: 'Accuracy', epochs: this.epochs, fixed: [0, 1], series: [
      { name: 'train', values: hist.accuracy, cls: 'train' },
      { name: 'validation', values: hist.val_accuracy, cls: 'val' }] });
  }

  onDone(done) {
    const test = done.test || {};
    this.finish(`Done: test accuracy ${fmt(test.accuracy, 4)}, test loss ${fmt(test.loss, 3)}.`);
    this.showModel(done);
  }

  showModel(done) {
    const box = clear(this.result);
    box.hidden = false;
    box.append(h('h2', { text: 'The model you trained is a graph' }));
    const picture = h('div', { class: 'diagram' });
    box.append(picture);
    new Diagram(picture).show(done.svg, done.message || 'No diagram.');
    if (done.derivation) {
      box.append(h('h3', { text: 'Its chain rule' }), derivationView(done.derivation));
    }
    if (done.graph) {
      box.append(h('details', {}, h('summary', { text: 'Graph text' }), h('pre', { text: done.graph })));
    }
  }

  setRunning(on, text) {
    if (this.startButton) this.startButton.disabled = on;
    if (this.cancelButton) this.cancelButton.disabled = !on;
    this.status.textContent = text;
  }

  finish(text) {
    this.stop();
    this.setRunning(false, text);
  }

  stop() {
    if (this.source) {
      const s = this.source;
      this.source = null;
      s.close();
    }
  }

  async cancel() {
    if (!this.job) return;
    this.status.textContent = 'Cancelling…';
    try {
      await post(`/api/train/${encodeURIComponent(this.job)}/cancel`);
    } catch (err) {
      say(this.error, err.message);
    }
  }
}

let started = false;
let run;

export function show(r) {
  const form = $('#tr-form');
  if (!started) {
    buildForm(form);
    run = new TrainRun({
      lossSvg: $('#tr-loss'), accSvg: $('#tr-acc'), status: $('#tr-status'), error: $('#tr-error'),
      result: $('#tr-result'), startButton: $('#tr-start'), cancelButton: $('#tr-cancel'),
    });
    run.history = { loss: [], accuracy: [], val_loss: [], val_accuracy: [] };
    run.epochs = 15;
    run.draw();
    $('#tr-start').addEventListener('click', () => {
      let body;
      try {
        body = readForm(form);
      } catch (err) {
        say($('#tr-error'), err.message);
        return;
      }
      setQuery('train', [], { o: body });
      run.start(body);
    });
    started = true;
  }
  const body = jsonParam(r.query, 'o', null);
  if (body) fillForm(form, body);
}
