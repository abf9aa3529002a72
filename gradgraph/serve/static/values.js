// Pure helpers for value controls (no DOM), easy to test in the page.

/** A slider's [min, max, step] around `value`: symmetric, round, at least ±1. */
export function sliderRange(value) {
  const v = Math.abs(Number(value)) || 0;
  const reach = Math.max(1, v * 2);
  const mag = 10 ** Math.floor(Math.log10(reach));
  const hi = Math.ceil(reach / mag) * mag;
  return [-hi, hi, Number((hi / 200).toPrecision(2))];
}

const SUPER = { 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹', '+': '⁺', '-': '⁻',
  '(': '⁽', ')': '⁾', L: 'ᴸ', l: 'ˡ', i: 'ⁱ', j: 'ʲ', k: 'ᵏ', n: 'ⁿ', t: 'ᵗ', T: 'ᵀ' };
const SUB = { 0: '₀', 1: '₁', 2: '₂', 3: '₃', 4: '₄', 5: '₅', 6: '₆', 7: '₇', 8: '₈', 9: '₉', '+': '₊', '-': '₋',
  a: 'ₐ', e: 'ₑ', h: 'ₕ', i: 'ᵢ', j: 'ⱼ', k: 'ₖ', l: 'ₗ', m: 'ₘ', n: 'ₙ', o: 'ₒ', p: 'ₚ', r: 'ᵣ', s: 'ₛ', t: 'ₜ', u: 'ᵤ', v: 'ᵥ', x: 'ₓ' };
const GREEK = { alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ', epsilon: 'ε', lambda: 'λ', mu: 'μ', sigma: 'σ', theta: 'θ', rho: 'ρ' };

function mapAll(text, table) {
  const chars = Array.from(text);
  return chars.every((c) => c in table) ? chars.map((c) => table[c]).join('') : null;
}

/** A canonical name as the slides write it: `a^(L-1)` → a⁽ᴸ⁻¹⁾, `C_0` → C₀ (else unchanged). */
export function prettyName(name) {
  const m = /^([A-Za-z]+)(?:_([A-Za-z0-9]+))?(?:\^\(([^)]*)\))?$/.exec(String(name));
  if (!m) return String(name);
  const base = GREEK[m[1]] ?? m[1];
  const sub = m[2] ? mapAll(m[2], SUB) ?? `_${m[2]}` : '';
  const sup = m[3] !== undefined ? mapAll(`(${m[3]})`, SUPER) ?? `^(${m[3]})` : '';
  return base + sub + sup;
}
