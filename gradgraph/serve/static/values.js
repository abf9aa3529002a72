// Pure helpers for value controls (no DOM), easy to test in the page.

/** A slider's [min, max, step] around `value`: symmetric, round, at least ±1. */
export function sliderRange(value) {
  const v = Math.abs(Number(value)) || 0;
  const reach = Math.max(1, v * 2);
  const mag = 10 ** Math.floor(Math.log10(reach));
  const hi = Math.ceil(reach / mag) * mag;
  return [-hi, hi, Number((hi / 200).toPrecision(2))];
}
