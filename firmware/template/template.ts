/**
 * A mustache subset, compiled once into a flat instruction list and rendered many times.
 *
 *   {{name}}          value, escaped for the target ('json': as inside a JSON string; 'none')
 *   {{{name}}}        value, raw          {{& name}}   the same
 *   {{#name}}…{{/name}}  section: once per array element (the element is the context), once for
 *                     any other truthy value (pushed as the context, so {{.}} reaches it),
 *                     never for falsy values and empty arrays
 *   {{^name}}…{{/name}}  inverted: only for falsy values and empty arrays
 *   {{! comment}}     nothing             {{.}}        the current context itself
 *
 * A name is looked up outward through the context stack; dotted names then descend through
 * objects, taking at each level the LONGEST run of the remaining dot-separated parts that is a
 * key, so `values.1-0:1.8.0.value` reaches an OBIS key that contains dots. Own properties of
 * arrays count too (`{{#list.length}}`, `{{list.0.x}}`). Section, inverted, closing and comment
 * tags alone on a line take the line with them, as in the mustache spec, so multi-line templates
 * (Prometheus text) keep no blank lines.
 *
 * Does not know: partials, lambdas, set delimiters (these are compile errors or render nothing),
 * what the context means, or where the output goes.
 */

export type Escape = 'json' | 'none';

export interface TemplateError {
  message: string;
  /** index into the source (UTF-16 code units) of the `{{` that is at fault */
  position: number;
  /** 1-based */
  line: number;
  /** 1-based, in UTF-16 code units from the start of the line */
  column: number;
}

export interface Template {
  /** Never throws: missing names render as nothing. */
  render(context: object): string;
}

export type CompileResult = { ok: true; template: Template } | { ok: false; error: TemplateError };

// instruction kinds
const TEXT = 0;
const ESCAPED = 1;
const RAW = 2;
const SECTION = 3;
const INVERTED = 4;
// tags that become no instruction
const CLOSE = -1;
const COMMENT = -2;

/**
 * A name, with every run of its parts joined once at compile time so that rendering allocates
 * nothing to look it up: runs[i] holds the keys starting at part i, longest first.
 */
interface Name {
  text: string;
  /** `.`: the current context */
  self: boolean;
  runs: string[][];
}

interface Op {
  kind: number;
  /** TEXT: the text; tags: the name as written (for errors and debugging) */
  text: string;
  name: Name | null;
  /** SECTION / INVERTED: the index just past the section's last instruction */
  end: number;
}

function compileName(text: string): Name {
  if (text === '.') return { text, self: true, runs: [] };
  const parts = text.split('.');
  const runs: string[][] = [];
  for (let i = 0; i < parts.length; i++) {
    const r: string[] = [];
    for (let j = parts.length; j > i; j--) r.push(parts.slice(i, j).join('.'));
    runs.push(r);
  }
  return { text, self: false, runs };
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t';
}

/** "line L, column C" of a source position, both 1-based. */
function locate(source: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < position; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: position - lineStart + 1 };
}

function sigil0(inner: string): string {
  return inner.length > 0 ? inner.charAt(0) : '';
}

function errorAt(source: string, position: number, message: string): CompileResult {
  const at = locate(source, position);
  return { ok: false, error: { message, position, line: at.line, column: at.column } };
}

export function compileTemplate(source: string, escape: Escape): CompileResult {
  const ops: Op[] = [];
  /** indices into ops of the open sections */
  const open: number[] = [];
  /** source positions of the open sections' tags */
  const openAt: number[] = [];
  let pos = 0;
  /** start of the pending text: a tag may be standalone only if its line starts at or after it */
  let textStart = 0;
  let text = '';
  const n = source.length;

  while (pos < n) {
    const tagStart = source.indexOf('{{', pos);
    if (tagStart < 0) {
      text += source.slice(pos);
      break;
    }
    let before = source.slice(pos, tagStart);
    const triple = source.charCodeAt(tagStart + 2) === 123; // '{'
    const innerStart = tagStart + (triple ? 3 : 2);
    const close = source.indexOf('}}', innerStart);
    if (close < 0) return errorAt(source, tagStart, triple ? 'unclosed tag: {{{ without }}}' : 'unclosed tag: {{ without }}');
    let tagEnd = close + 2;
    if (triple) {
      if (source.charCodeAt(close + 2) !== 125) return errorAt(source, tagStart, 'triple mustache {{{ is not closed by }}}');
      tagEnd = close + 3;
    }
    const inner = source.slice(innerStart, close);
    // a '{{' before this tag's '}}' means the tag was never closed: '{{a}, {{b}}' is a typo
    const reopened = sigil0(inner) === '!' ? -1 : inner.indexOf('{{');
    if (reopened >= 0) return errorAt(source, tagStart, `tag ${source.slice(tagStart, innerStart + reopened)} is not closed with }} before the next {{`);
    if (/[\r\n]/.test(inner) && sigil0(inner) !== '!') return errorAt(source, tagStart, 'a tag must not span lines: is a }} missing?');
    const sigil = triple ? '{' : inner.length > 0 ? inner.charAt(0) : '';
    let kind: number;
    let nameText: string;
    switch (sigil) {
      case '{':
        kind = RAW;
        nameText = inner.trim();
        break;
      case '&':
        kind = RAW;
        nameText = inner.slice(1).trim();
        break;
      case '#':
        kind = SECTION;
        nameText = inner.slice(1).trim();
        break;
      case '^':
        kind = INVERTED;
        nameText = inner.slice(1).trim();
        break;
      case '/':
        kind = CLOSE;
        nameText = inner.slice(1).trim();
        break;
      case '!':
        kind = COMMENT;
        nameText = '';
        break;
      case '>':
        return errorAt(source, tagStart, 'partials ({{> name}}) are not supported');
      case '=':
        return errorAt(source, tagStart, 'set delimiters ({{=…=}}) are not supported');
      default:
        kind = ESCAPED;
        nameText = inner.trim();
    }
    if (kind !== COMMENT && nameText === '') return errorAt(source, tagStart, `empty name in ${source.slice(tagStart, tagEnd)}`);

    // a section/inverted/close/comment tag alone on its line removes the whole line
    let next = tagEnd;
    if (kind === SECTION || kind === INVERTED || kind === CLOSE || kind === COMMENT) {
      const lineStart = source.lastIndexOf('\n', tagStart - 1) + 1;
      let standalone = lineStart >= textStart;
      for (let i = lineStart; standalone && i < tagStart; i++) standalone = isSpace(source.charAt(i));
      let after = tagEnd;
      while (standalone && after < n && isSpace(source.charAt(after))) after++;
      if (standalone) {
        if (after < n && source.charAt(after) === '\r' && source.charAt(after + 1) === '\n') after += 2;
        else if (after < n && source.charAt(after) === '\n') after += 1;
        else if (after < n) standalone = false;
      }
      if (standalone) {
        before = before.slice(0, before.length - (tagStart - lineStart));
        next = after;
      }
    }
    text += before;
    if (kind !== COMMENT && text !== '') {
      ops.push({ kind: TEXT, text, name: null, end: 0 });
      text = '';
    }

    if (kind === CLOSE) {
      if (open.length === 0) return errorAt(source, tagStart, `closing tag {{/${nameText}}} without an opening {{#${nameText}}}`);
      const top = open[open.length - 1];
      if (ops[top].text !== nameText) {
        const at = locate(source, openAt[openAt.length - 1]);
        return errorAt(
          source,
          tagStart,
          `closing tag {{/${nameText}}} does not match the open section {{${ops[top].kind === SECTION ? '#' : '^'}${ops[top].text}}} (line ${at.line}, column ${at.column})`,
        );
      }
      open.pop();
      openAt.pop();
      ops[top].end = ops.length;
    } else if (kind !== COMMENT) {
      if (kind === SECTION || kind === INVERTED) {
        open.push(ops.length);
        openAt.push(tagStart);
      }
      ops.push({ kind, text: nameText, name: compileName(nameText), end: 0 });
    }
    pos = next;
    textStart = next;
  }
  if (open.length > 0) {
    const top = ops[open[open.length - 1]];
    return errorAt(source, openAt[openAt.length - 1], `unclosed section {{${top.kind === SECTION ? '#' : '^'}${top.text}}}: no {{/${top.text}}}`);
  }
  if (text !== '') ops.push({ kind: TEXT, text, name: null, end: 0 });
  return { ok: true, template: new CompiledTemplate(ops, escape === 'json') };
}

const hasOwn = Object.prototype.hasOwnProperty;

/** The value at runs[level…] below obj, or undefined. */
function descend(obj: unknown, runs: string[][], level: number): unknown {
  let v = obj;
  let i = level;
  while (i < runs.length) {
    if (v === null || typeof v !== 'object') return undefined;
    const r = runs[i];
    let found = -1;
    for (let k = 0; k < r.length; k++) {
      if (hasOwn.call(v, r[k])) {
        found = k;
        break;
      }
    }
    if (found < 0) return undefined;
    v = (v as Record<string, unknown>)[r[found]];
    // r[0] spans every remaining part; each shorter run spans one part fewer
    i += r.length - found;
  }
  return v;
}

function lookup(stack: unknown[], name: Name): unknown {
  if (name.self) return stack[stack.length - 1];
  const first = name.runs[0];
  for (let s = stack.length - 1; s >= 0; s--) {
    const frame = stack[s];
    if (frame === null || typeof frame !== 'object') continue;
    for (let k = 0; k < first.length; k++) {
      if (hasOwn.call(frame, first[k])) {
        // found at this level: the rest resolves here or not at all (mustache spec, dotted names)
        const v = (frame as Record<string, unknown>)[first[k]];
        const used = first.length - k;
        return used === name.runs.length ? v : descend(v, name.runs, used);
      }
    }
  }
  return undefined;
}

/** Escapes like the inside of a JSON string: JSON.stringify's rules, without the quotes. */
export function escapeJsonString(s: string): string {
  // a scan instead of a RegExp: the common case (nothing to escape) allocates nothing
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return JSON.stringify(s).slice(1, -1);
  }
  return s;
}

function toText(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'bigint':
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return '';
      try {
        const s = JSON.stringify(v);
        return typeof s === 'string' ? s : '';
      } catch {
        return ''; // a cycle or a BigInt inside
      }
    }
    default:
      return ''; // undefined, functions, symbols
  }
}

class CompiledTemplate implements Template {
  constructor(
    private readonly ops: readonly Op[],
    private readonly json: boolean,
  ) {}

  render(context: object): string {
    const stack: unknown[] = [context];
    try {
      return this.run(0, this.ops.length, stack);
    } catch {
      // only a hostile context gets here (a throwing getter or toJSON, a cycle)
      return '';
    }
  }

  private run(from: number, to: number, stack: unknown[]): string {
    let out = '';
    const ops = this.ops;
    let i = from;
    while (i < to) {
      const op = ops[i];
      switch (op.kind) {
        case TEXT:
          out += op.text;
          i++;
          break;
        case ESCAPED: {
          const s = toText(lookup(stack, op.name!));
          out += this.json ? escapeJsonString(s) : s;
          i++;
          break;
        }
        case RAW:
          out += toText(lookup(stack, op.name!));
          i++;
          break;
        case SECTION: {
          const v = lookup(stack, op.name!);
          if (Array.isArray(v)) {
            for (let k = 0; k < v.length; k++) {
              stack.push(v[k]);
              out += this.run(i + 1, op.end, stack);
              stack.pop();
            }
          } else if (v && typeof v !== 'function') {
            stack.push(v);
            out += this.run(i + 1, op.end, stack);
            stack.pop();
          }
          i = op.end;
          break;
        }
        default: {
          // INVERTED
          const v = lookup(stack, op.name!);
          if (Array.isArray(v) ? v.length === 0 : !v || typeof v === 'function') out += this.run(i + 1, op.end, stack);
          i = op.end;
        }
      }
    }
    return out;
  }
}

/** The compiled template, or an empty one when it does not compile (validated configs never get there). */
export function compileOrEmpty(source: string, escape: Escape): Template {
  const r = compileTemplate(source, escape);
  if (r.ok) return r.template;
  return (compileTemplate('', escape) as { ok: true; template: Template }).template;
}
