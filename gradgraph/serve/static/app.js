// The tutor's entry point: a hash router over four views and the Graphviz notice.

import { get } from './api.js';
import { $, $$ } from './dom.js';
import * as check from './check.js';
import * as lessons from './lessons.js';
import * as playground from './playground.js';
import { route } from './route.js';
import * as train from './train.js';

const VIEWS = { playground, lessons, check, train };
let shown = null;

async function onRoute() {
  const r = route();
  const name = r.view in VIEWS ? r.view : 'playground';
  for (const [key] of Object.entries(VIEWS)) $(`#view-${key}`).hidden = key !== name;
  for (const a of $$('nav a')) {
    if (a.dataset.view === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const titles = { playground: 'Playground', lessons: 'Lessons', check: 'Check', train: 'Train' };
  document.title = `${titles[name]} · gradgraph`;
  if (shown !== name) window.scrollTo(0, 0);
  shown = name;
  try {
    await VIEWS[name].show(r);
  } finally {
    document.body.dataset.ready = name; // tests wait for this
  }
}

async function health() {
  try {
    const h = await get('/api/health');
    if (!h.graphviz) {
      const notice = $('#health');
      const why = h.graphviz_message || 'Graphviz (dot) is not installed';
      notice.textContent = `Diagrams are off: ${why}. Derivations, values and checking still work.`;
      notice.hidden = false;
    }
  } catch (err) {
    const notice = $('#health');
    notice.textContent = err.message;
    notice.hidden = false;
  }
}

window.addEventListener('hashchange', onRoute);
health();
onRoute();
