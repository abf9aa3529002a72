// Markup from the server, made inert before it enters the page. The server already builds
// MathML from SymPy objects and escapes every Graphviz label; this is the second lock:
// parse in an inert document, keep only known MathML/SVG/prose elements, and drop every
// event handler, link, style attribute (the CSP would refuse it anyway) and script.

const MATHML = new Set(('math mrow mi mo mn ms mtext mspace msub msup msubsup mfrac msqrt mroot ' +
  'mover munder munderover mtable mtr mtd mstyle mpadded mphantom menclose semantics ' +
  'annotation merror mmultiscripts mprescripts none').split(' '));
const SVG = new Set(('svg g title polygon polyline path ellipse circle rect line text tspan ' +
  'defs lineargradient radialgradient stop clippath').split(' '));
const PROSE = new Set(('p em strong b i u code pre kbd samp small sub sup br hr span div ul ol li ' +
  'dl dt dd table thead tbody tfoot tr th td caption blockquote h2 h3 h4 h5 h6 figure ' +
  'figcaption details summary').split(' '));
const DROP_ATTR = /^(on|style$|href$|xlink:href$|src$|srcset$|action$|formaction$|xmlns:xlink$)/i;
const HTML_ATTRS = new Set(['class', 'colspan', 'rowspan', 'open', 'start', 'title']);

// Chromium checks the CSP as soon as an HTML parser meets an event handler or a style attribute, even
// in an inert document, and logs a violation. Dropping them from each tag's text first keeps
// the console quiet; the DOM pass below stays the real guarantee.
const TAG = /<[^>]*>/g;
const HANDLER = /\s(on[a-z]+|style)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)/gi;

export function dropHandlers(markup) {
  return String(markup).replace(TAG, (tag) => tag.replace(HANDLER, ''));
}

function parse(markup) {
  // A DOMParser document is inert: no scripts run, nothing is fetched.
  const doc = new DOMParser().parseFromString(`<!doctype html><body>${dropHandlers(markup)}`, 'text/html');
  return doc.body;
}

function allowed(el, allowProse) {
  const name = el.localName.toLowerCase();
  if (el.namespaceURI === 'http://www.w3.org/1998/Math/MathML') return MATHML.has(name);
  if (el.namespaceURI === 'http://www.w3.org/2000/svg') return SVG.has(name);
  return allowProse && PROSE.has(name);
}

function cleanAttributes(el) {
  const html = el.namespaceURI === 'http://www.w3.org/1999/xhtml';
  for (const attr of Array.from(el.attributes)) {
    const bad = DROP_ATTR.test(attr.name) || /javascript:|data:|url\((?!#)/i.test(attr.value)
      || (html && !HTML_ATTRS.has(attr.name));
    if (bad) el.removeAttribute(attr.name);
  }
}

function clean(root, allowProse) {
  for (const el of Array.from(root.querySelectorAll('*'))) {
    if (!root.contains(el)) continue; // inside an element already removed
    if (!allowed(el, allowProse)) {
      el.remove();
      continue;
    }
    cleanAttributes(el);
  }
  return root;
}

function adopt(root) {
  const frag = document.createDocumentFragment();
  for (const child of Array.from(root.childNodes)) frag.append(document.adoptNode(child));
  return frag;
}

/** A `<math>` element (the API's `mathml` fields), or null when there is none. */
export function mathFragment(mathml) {
  if (!mathml) return null;
  const body = clean(parse(mathml), false);
  const math = body.querySelector('math');
  return math ? document.adoptNode(math) : null;
}

/** Lesson prose (`text_html`, `prompt_html`): paragraphs, code, tables and MathML. */
export function proseFragment(html) {
  return adopt(clean(parse(html || ''), true));
}

/** Graphviz SVG, sized to fit its box (natural size at most), or null. */
export function svgElement(svgText) {
  if (!svgText) return null;
  const start = svgText.indexOf('<svg');
  if (start < 0) return null;
  const body = clean(parse(svgText.slice(start)), false);
  const svg = body.querySelector('svg');
  if (!svg) return null;
  const width = parseFloat(svg.getAttribute('width'));
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  const el = document.adoptNode(svg);
  // pt → px; the CSSOM (unlike a style attribute) is allowed by the CSP.
  if (width > 0) {
    el.dataset.natural = String(Math.round(width * 4 / 3));
    el.style.maxWidth = `${el.dataset.natural}px`;
  }
  return el;
}
