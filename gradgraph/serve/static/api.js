// The JSON API (docs/serve-api.md): one fetch wrapper that turns every failure into an
// ApiError carrying the server's one-line message, so each view shows it near its input.

export class ApiError extends Error {
  constructor(message, kind, status) {
    super(message);
    this.kind = kind;
    this.status = status;
  }
}

async function request(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError('the tutor server cannot be reached; is `gradgraph serve` running?',
      'network', 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const err = data && data.error;
    let message = err && err.message ? err.message : `request failed (${response.status})`;
    if (response.status === 413) message = 'This is too long for the tutor: one request carries at most 64 KB of text.';
    throw new ApiError(oneLine(message), err ? err.kind : 'http', response.status);
  }
  return data;
}

// The longest text (graph or answer) the server takes; a request body is capped at 64 KiB.
export const MAX_TEXT = 60000;

/** One line saying `text` is too long to send, or null: checked before a request, so a
 * 200 KB paste is answered beside its box instead of by the server's byte count. */
export function tooLong(text, what) {
  if (text.length <= MAX_TEXT) return null;
  const n = (k) => k.toLocaleString('en');
  return `${what} is ${n(text.length)} characters long; the tutor reads at most ${n(MAX_TEXT)}.`;
}

/** Keep error text to one line: the page shows it beside the input it concerns. */
export function oneLine(text) {
  return String(text).split('\n').map((s) => s.trim()).filter(Boolean).join(' ');
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body ?? {});

let examplesPromise = null;
/** The bundled graphs (cached for the page's life). */
export function examples() {
  examplesPromise ??= get('/api/examples').catch((err) => {
    examplesPromise = null;
    throw err;
  });
  return examplesPromise;
}

/** Fill a <select> with the bundled graphs; `onPick(example)` when one is chosen. */
export async function fillExamplePicker(select, onPick) {
  const list = await examples();
  for (const ex of list) {
    const option = document.createElement('option');
    option.value = ex.name;
    option.textContent = ex.title ? `${ex.title} (${ex.name})` : ex.name;
    select.append(option);
  }
  select.addEventListener('change', () => {
    const ex = list.find((e) => e.name === select.value);
    if (ex) onPick(ex);
  });
  return list;
}
