// Train: every option `gradgraph train` has, curves drawn live from server-sent events,
// Cancel, then the trained model's graph and derivation. `TrainRun` is reused by lessons.

import { get, post } from './api.js';
import { drawChart } from './chart.js';
import { Diagram } from './diagram.js';
import { $, clear, fmt, h, say } from './dom.js';
import { derivationView } from './maths.js';
import { jsonParam, setQuery } from './route.js';

// The fixed part of the form. The optimizers, schedules, their settings and defaults and
// the dtypes come from GET /api/train/options (the classes of gradgraph.optim), so a new
// setting there appears here without an edit.
export const FIELDS = [
  { group: 'Network' },
  { key: 'hidden', label: 'Hidden layers', kind: 'text', value: '100', hint: 'units per layer: 100 or 64,32' },
  { key: 'activation', label: 'Activation', kind: 'select', value: 'tanh', options: ['tanh', 'sigmoid', 'relu', 'softplus'] },
  { group: 'Optimizer', optimizer: true },
  { group: 'Learning-rate schedule', schedule: true },
  { group: 'Regularisation' },
  { key: 'l1', label: 'L1 λ', kind: 'number', value: '', hint: '0' },
  { key: 'l2', label: 'L2 λ', kind: 'number', value: '', hint: '0' },
  { key: 'dropout', label: 'Dropout rate', kind: 'number', value: '', hint: '0' },
  { key: 'batchnorm', label: 'Batch normalisation', kind: 'check' },
  { group: 'Run' },
  { key: 'epochs', label: 'Epochs', kind: 'number', value: '15' },
  { key: 'batch_size', label: 'Batch size', kind: 'number', value: '32' },
  { key: 'seed', label: 'Seed', kind: 'number', value: '0' },
  { key: 'validation_split', label: 'Validation split', kind: 'number', value: '', hint: 'none: test set' },
  { key: 'dtype', label: 'dtype', kind: 'dtype' },
];

// How a setting's name is shown (presentation only; which optimizer takes it and its
// default are the server's). A name missing here is shown as it is.
const LABELS = {
  lr: 'Learning rate ε', momentum: 'Momentum μ', nesterov: 'Nesterov', beta_1: 'β₁', beta_2: 'β₂',
  epsilon: 'ε (stability)', rho: 'ρ (decay)', eps_placement: 'ε placement', centered: 'Centred',
  bias_correction: 'Bias correction', weight_decay: 'Weight decay λ',
  initial_accumulator: 'Initial accumulator', every: 'every', factor: 'factor', rate: 'rate',
  decay: 'decay', tau: 'τ', total: 'total', floor: 'floor',
};
const SCHEDULE_NAMES = { '': 'none', step: 'step decay', 'inverse-time': '1/t', linear: 'linear to a floor' };
const SCHED = 'schedule.'; // schedule settings' control names: "schedule.total"

let cataloguePromise = null;
/** GET /api/train/options, once per page. */
export function trainCatalogue() {
  cataloguePromise ??= get('/api/train/options').catch((err) => {
    cataloguePromise = null;
    throw err;
  });
  return cataloguePromise;
}

const settingLabel = (s) => (LABELS[s.name] ?? s.name) + (s.type === 'integer' ? ' (updates)' : '');

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

function fieldRow(f, prefix) {
  const id = `${prefix}-${f.key.replace('.', '-')}`;
  const input = control(f, id);
  const wrap = f.kind === 'check'
    ? h('div', { class: 'field check' }, input, h('label', { htmlFor: id, text: f.label }))
    : h('div', { class: 'field' }, h('label', { htmlFor: id, text: f.label }), input);
  if (f.only) wrap.dataset.only = f.only.join(' ');
  if (f.sched) wrap.dataset.sched = f.sched.join(' ');
  return wrap;
}

/** One field per setting name; `owners` lists who takes it (shown only for those). */
function settingFields(owners, keyOf, attr) {
  const byName = new Map();
  for (const owner of owners) {
    for (const s of owner.settings) {
      if (!byName.has(s.name)) byName.set(s.name, { setting: s, takers: [] });
      byName.get(s.name).takers.push(owner.name);
    }
  }
  return [...byName.values()].map(({ setting: s, takers }) => ({
    key: keyOf(s.name), label: settingLabel(s), setting: s.name, [attr]: takers,
    kind: s.type === 'boolean' ? 'check' : s.choices ? 'select' : 'number',
    options: s.choices, value: s.choices ? s.default : '',
  }));
}

/** The form's fields: FIELDS with the optimizer and schedule groups filled from `cat`. */
function fieldsOf(cat) {
  const out = [];
  for (const f of FIELDS) {
    if (f.optimizer) {
      const names = cat.optimizers.map((o) => o.name);
      out.push(f, { key: 'optimizer', label: 'Optimizer', kind: 'select', value: cat.defaults.optimizer, options: names },
        ...settingFields(cat.optimizers, (n) => n, 'only'));
    } else if (f.schedule) {
      out.push(f, { key: 'schedule', label: 'Schedule', kind: 'select', value: '',
        options: ['', ...cat.schedules.map((s) => s.name)], names: SCHEDULE_NAMES },
      ...settingFields(cat.schedules, (n) => SCHED + n, 'sched'),
      { note: 'k counts updates (one per minibatch), as gradgraph train --schedule' });
    } else if (f.kind === 'dtype') {
      out.push({ ...f, kind: 'select', value: cat.defaults.dtype, options: cat.dtypes });
    } else out.push(f);
  }
  return out;
}

/** Build the options form into `form` from the server's catalogue (ids prefixed by `prefix`). */
export function buildForm(form, cat, prefix = 'tr') {
  clear(form);
  form.fields = fieldsOf(cat);
  form.catalogue = cat;
  let fieldset = null;
  for (const f of form.fields) {
    if (f.group) {
      fieldset = h('fieldset', {}, h('legend', { text: f.group }));
      form.append(fieldset);
    } else if (f.note) {
      const note = h('p', { class: 'field-note', text: f.note });
      note.dataset.sched = cat.schedules.filter((s) => s.settings.some((x) => x.type === 'integer')).map((s) => s.name).join(' ');
      fieldset.append(note);
    } else fieldset.append(fieldRow(f, prefix));
  }
  form.addEventListener('change', (event) => {
    if (event.target.name === 'optimizer' || event.target.name === 'schedule') showDefaults(form);
    showRelevant(form);
  });
  showDefaults(form);
  showRelevant(form);
}

function chosen(form) {
  const cat = form.catalogue;
  const opt = cat.optimizers.find((o) => o.name === form.elements.optimizer.value);
  const sched = cat.schedules.find((s) => s.name === form.elements.schedule.value);
  return { opt, sched };
}

/** Each setting's placeholder (or check, or choice) shows the chosen one's default, and
 * its rows follow the class's own order (β₁, β₂, ε for adam). */
function showDefaults(form) {
  const { opt, sched } = chosen(form);
  const owned = [...(opt?.settings ?? []).map((s) => [s.name, s]),
    ...(sched?.settings ?? []).map((s) => [SCHED + s.name, s])];
  for (const [key, s] of owned) {
    const el = form.elements[key];
    const row = el.closest('.field');
    row.parentElement.append(row);
    if (s.type === 'boolean') el.checked = Boolean(s.default);
    else if (s.choices) el.value = s.default;
    else el.placeholder = s.required ? 'required' : String(s.default);
  }
}

function showRelevant(form) {
  const note = form.querySelector('.field-note');
  note?.parentElement.append(note); // after the schedule's rows
  const opt = form.elements.optimizer.value;
  const sched = form.elements.schedule.value;
  for (const el of form.querySelectorAll('[data-only]')) el.hidden = !el.dataset.only.split(' ').includes(opt);
  for (const el of form.querySelectorAll('[data-sched]')) el.hidden = !el.dataset.sched.split(' ').includes(sched);
}

/** The form as a TrainOptions body; throws Error(one line) for a field that is not a number. */
export function readForm(form) {
  const body = { data: 'digits' };
  const { opt, sched } = chosen(form);
  for (const f of form.fields) {
    if (!f.key || f.key === 'schedule' || f.sched) continue;
    if (f.only && !f.only.includes(opt.name)) continue;
    const el = form.elements[f.key];
    const setting = f.setting ? opt.settings.find((s) => s.name === f.setting) : null;
    if (f.kind === 'check') {
      // A setting goes only when it differs from the optimizer's default.
      if (setting ? el.checked !== Boolean(setting.default) : el.checked) body[f.key] = el.checked;
      continue;
    }
    const text = el.value.trim();
    if (text === '' || (setting && f.kind === 'select' && text === setting.default)) continue;
    if (f.key === 'dtype' && text === form.catalogue.defaults.dtype) continue;
    body[f.key] = f.key === 'hidden' ? parseHidden(text) : f.kind === 'number' ? number(f, text) : text;
  }
  if (sched) {
    body.schedule = { kind: sched.name };
    for (const s of sched.settings) {
      const text = form.elements[SCHED + s.name].value.trim();
      if (text === '' && s.required) throw new Error(`The ${sched.name} schedule needs ${s.name}`);
      if (text !== '') body.schedule[s.name] = number({ label: `${sched.name} ${s.name}` }, text);
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
  // A name this server does not know (an old or edited link) keeps the current choice.
  const pick = (select, value) => {
    if ([...select.options].some((o) => o.value === value)) select.value = value;
  };
  if (body?.optimizer) pick(form.elements.optimizer, body.optimizer);
  pick(form.elements.schedule, body?.schedule?.kind ?? '');
  showDefaults(form);
  for (const [key, value] of Object.entries(body || {})) {
    const el = form.elements[key];
    if (!el || key === 'schedule' || key === 'optimizer') continue;
    if (el.type === 'checkbox') el.checked = Boolean(value);
    else el.value = key === 'hidden' && Array.isArray(value) ? value.join(',') : String(value);
  }
  for (const [key, value] of Object.entries(body?.schedule ?? {})) {
    const el = form.elements[SCHED + key];
    if (el && key !== 'kind') el.value = String(value);
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
    // val_* is measured on held-out training data with a split, else on the test set.
    this.valName = body.validation_split ? 'validation' : 'test set';
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
      { name: this.valName ?? 'test set', values: hist.val_loss, cls: 'val' }] });
    drawChart(this.accSvg, { title: 'Accuracy', epochs: this.epochs, fixed: [0, 1], series: [
      { name: 'train', values: hist.accuracy, cls: 'train' },
      { name: this.valName ?? 'test set', values: hist.val_accuracy, cls: 'val' }] });
  }

  onDone(done) {
    const test = done.test || {};
    const val = done.validation?.of === 'training data'
      ? ` Validation: ${done.validation.examples} held-out training examples.` : '';
    this.finish(`Done: test accuracy ${fmt(test.accuracy, 4)}, test loss ${fmt(test.loss, 3)}.${val}`);
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

export async function show(r) {
  const form = $('#tr-form');
  if (!started) {
    let cat;
    try {
      cat = await trainCatalogue();
    } catch (err) {
      say($('#tr-error'), err.message);
      return;
    }
    buildForm(form, cat);
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
