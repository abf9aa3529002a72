// The URL holds the state, so a teacher can share a link: `#/view/rest?key=value&…`.
// Views read their state with `route()` and write it with `setQuery()` (no history spam).

/** Parse a location hash into {view, rest, query}. */
export function parseHash(hash) {
  const text = (hash || '').replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : text.slice(q + 1));
  const [view, ...rest] = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { view: view || 'playground', rest, query };
}

/** Build a hash from a view, path parts and a plain object (empty values dropped). */
export function formatHash(view, rest, values) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(values || {})) {
    if (value === undefined || value === null || value === '') continue;
    query.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const path = [view, ...(rest || [])].map(encodeURIComponent).join('/');
  const qs = query.toString();
  return `#/${path}${qs ? `?${qs}` : ''}`;
}

export const route = () => parseHash(window.location.hash);

/** Replace the URL's state without a new history entry or a hashchange. */
export function setQuery(view, rest, values) {
  const hash = formatHash(view, rest, values);
  if (hash !== window.location.hash) window.history.replaceState(null, '', hash);
}

/** A JSON query value, or `fallback` when missing or unreadable. */
export function jsonParam(query, key, fallback) {
  const text = query.get(key);
  if (text === null) return fallback;
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}
