// The key of a message in a translation table, shared by the UI (web-ui/src/i18n.ts) and its
// build (web-ui/build.mjs), which stores only these keys, not the English texts.
//
// A message's variable parts become `{}`: numbers (1234, 12.5, 1.234,5, 0x1F) and quoted text.
// The key is then a 32-bit FNV-1a hash of that template, 7 base-36 digits. A text is looked up as
// written first, then as its template, so fixed numbers ("2400 baud") need no placeholder.
// Plain JavaScript so the build can import it without a TypeScript step.

/** `{ key: 'no data for {} s', params: ['75'] }` */
export function template(text) {
  const params = [];
  const key = text.replace(/0x[0-9A-Fa-f]+|"[^"]*"|'[^']*'|\d+(?:[.,\u00a0\u202f]\d+)*/g, (m) => {
    params.push(m);
    return '{}';
  });
  return { key, params };
}

export function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36).padStart(7, '0');
}
