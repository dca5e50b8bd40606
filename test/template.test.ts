// The mustache subset: compile once, render many; every compile error with its position; JSON
// escaping; name lookup through the context stack and through OBIS keys that contain dots.
import { describe, expect, it } from 'vitest';
import { compileTemplate, escapeJsonString, type Escape, type Template, type TemplateError } from '../firmware/template/template.js';
import { buildContext } from '../firmware/template/context.js';
import { decode } from '../firmware/decoder.js';
import { encryptionKey } from '../firmware/keys.js';
import { nodeCrypto } from '../hal/node/crypto.js';
import type { Reading } from '../firmware/reading.js';
import { vector, wire } from './helpers.js';

function t(source: string, escape: Escape = 'none'): Template {
  const r = compileTemplate(source, escape);
  if (!r.ok) throw new Error(`${r.error.message} at ${r.error.line}:${r.error.column}`);
  return r.template;
}

function render(source: string, ctx: object, escape: Escape = 'none'): string {
  return t(source, escape).render(ctx);
}

function err(source: string): TemplateError {
  const r = compileTemplate(source, 'json');
  if (r.ok) throw new Error(`compiled: ${source}`);
  return r.error;
}

function realReading(id: string): Reading {
  const v = vector(id);
  const { readings } = decode(wire(v), { encryption: v.key ? encryptionKey(v.key) : null }, nodeCrypto);
  expect(readings).toHaveLength(1);
  return readings[0];
}

describe('variables', () => {
  it('renders strings, numbers, booleans; null, undefined and missing names as nothing', () => {
    const ctx = { s: 'text', n: 231.4, z: 0, neg: -24, big: 12345678901234, yes: true, no: false, nul: null, und: undefined };
    expect(render('{{s}}|{{n}}|{{z}}|{{neg}}|{{big}}|{{yes}}|{{no}}|{{nul}}|{{und}}|{{missing}}|', ctx)).toBe('text|231.4|0|-24|12345678901234|true|false||||');
  });

  it('renders objects and arrays as JSON text, escaped like any value in {{x}}', () => {
    const ctx = { o: { a: 1, b: 'x' }, l: [1, 'two', null] };
    expect(render('{{{o}}} {{{l}}}', ctx, 'json')).toBe('{"a":1,"b":"x"} [1,"two",null]');
    expect(render('{{o}} {{l}}', ctx, 'json')).toBe('{\\"a\\":1,\\"b\\":\\"x\\"} [1,\\"two\\",null]');
    expect(render('{{o}}', ctx, 'none')).toBe('{"a":1,"b":"x"}');
  });

  it('trims white space inside tags', () => {
    expect(render('{{ a }}{{{ b }}}{{& c }}{{# d }}x{{/ d }}', { a: 1, b: 2, c: 3, d: true })).toBe('123x');
  });

  it('{{! comments }} render nothing', () => {
    expect(render('a{{! a comment, even {{ this }}b', {})).toBe('ab');
    expect(render('a{{!}}b{{! }}c', {})).toBe('abc');
  });

  it('{{.}} is the current context', () => {
    expect(render('{{#l}}[{{.}}]{{/l}}', { l: ['a', 1, true] })).toBe('[a][1][true]');
  });

  it('text without tags passes through, including lone braces', () => {
    expect(render('{ "a": 1 } } {', {})).toBe('{ "a": 1 } } {');
    expect(render('', {})).toBe('');
  });
});

describe('escaping', () => {
  const nasty = 'quote " backslash \\ newline \n return \r tab \t bell \u0007 nul \u0000 del \u007f é € 😀';

  it("'json' escapes like the inside of a JSON string; the author writes the quotes", () => {
    const out = render('{"s":"{{s}}"}', { s: nasty }, 'json');
    expect(out).toBe('{"s":"quote \\" backslash \\\\ newline \\n return \\r tab \\t bell \\u0007 nul \\u0000 del \u007f é € 😀"}');
    expect(JSON.parse(out)).toEqual({ s: nasty });
  });

  it("'none' escapes nothing; raw tags escape nothing under 'json' either", () => {
    expect(render('{{s}}', { s: nasty }, 'none')).toBe(nasty);
    expect(render('{{{s}}}|{{&s}}', { s: nasty }, 'json')).toBe(nasty + '|' + nasty);
  });

  it('escapeJsonString matches JSON.stringify for every code unit below 0x80 and for lone surrogates', () => {
    for (let c = 0; c < 0x80; c++) {
      const s = String.fromCharCode(c);
      expect(escapeJsonString(s), `U+${c.toString(16)}`).toBe(JSON.stringify(s).slice(1, -1));
    }
    expect(escapeJsonString('\ud800x\udfff')).toBe('\\ud800x\\udfff');
    expect(escapeJsonString('😀')).toBe('😀');
  });

  it('a meter number with a quote and a newline still yields valid JSON', () => {
    const out = render('{"meter":"{{meter.number}}","n":{{n}}}', { meter: { number: 'AB"12\n34' }, n: 5 }, 'json');
    expect(out).toBe('{"meter":"AB\\"12\\n34","n":5}');
    expect(JSON.parse(out)).toEqual({ meter: 'AB"12\n34', n: 5 });
  });
});

describe('sections', () => {
  it('iterate arrays with the element as context', () => {
    expect(render('{{#l}}<{{name}}={{v}}>{{/l}}', { l: [{ name: 'a', v: 1 }, { name: 'b', v: 0 }] })).toBe('<a=1><b=0>');
  });

  it('render once for a truthy non-array value, objects pushed as context', () => {
    expect(render('{{#o}}{{x}}-{{y}}{{/o}}', { o: { x: 1 }, y: 'outer' })).toBe('1-outer');
    expect(render('{{#s}}[{{s}}|{{.}}]{{/s}}', { s: 'str' })).toBe('[str|str]');
    expect(render('{{#n}}yes{{/n}}', { n: 7 })).toBe('yes');
    expect(render('{{#b}}yes{{/b}}', { b: true })).toBe('yes');
  });

  it('skip falsy values and empty arrays; inverted sections render exactly then', () => {
    const ctx = { f: false, z: 0, e: '', n: null, u: undefined, a: [], nan: NaN };
    for (const k of ['f', 'z', 'e', 'n', 'u', 'a', 'nan', 'missing']) {
      expect(render(`{{#${k}}}shown{{/${k}}}{{^${k}}}inverted{{/${k}}}`, ctx), k).toBe('inverted');
    }
    const truthy = { t: true, one: 1, s: 'x', o: {}, l: [0] };
    for (const k of Object.keys(truthy)) {
      expect(render(`{{^${k}}}inverted{{/${k}}}`, truthy), k).toBe('');
    }
  });

  it('nest, and names resolve outward through the stack', () => {
    const ctx = { unit: 'W', rows: [{ name: 'a', cells: [1, 2] }, { name: 'b', cells: [] }] };
    expect(render('{{#rows}}{{name}}:{{#cells}}{{.}}{{unit}} {{/cells}}{{^cells}}none{{/cells}};{{/rows}}', ctx)).toBe('a:1W 2W ;b:none;');
  });

  it('a key that exists with an undefined value stops the outward walk', () => {
    expect(render('{{#l}}[{{unit}}]{{/l}}', { unit: 'outer', l: [{ unit: undefined }, {}] })).toBe('[][outer]');
  });

  it('functions are neither called nor rendered', () => {
    let called = 0;
    const f = () => {
      called++;
      return 'x';
    };
    expect(render('{{f}}|{{#f}}s{{/f}}|{{^f}}i{{/f}}', { f })).toBe('||i');
    expect(called).toBe(0);
  });

  it('own properties of arrays are names: {{#list.length}} and {{list.0.x}}', () => {
    const tpl = t('{{#l.length}}n={{l.length}} first={{l.0.x}}{{/l.length}}{{^l.length}}empty{{/l.length}}');
    expect(tpl.render({ l: [{ x: 'a' }, { x: 'b' }] })).toBe('n=2 first=a');
    expect(tpl.render({ l: [] })).toBe('empty');
  });
});

describe('names', () => {
  it('dotted names descend through objects', () => {
    expect(render('{{a.b.c}}|{{a.b}}|{{a.x.c}}|{{a.b.c.d}}', { a: { b: { c: 'deep' } } })).toBe('deep|{"c":"deep"}||');
  });

  it('at each level the LONGEST run of parts that is a key wins', () => {
    const ctx = { 'a.b': 'joined', a: { b: 'nested' }, x: { 'k.1': { v: 1 }, k: { 1: { v: 2 } } } };
    expect(render('{{a.b}}|{{x.k.1.v}}', ctx)).toBe('joined|1');
  });

  it('the first part binds at the innermost context that has it; the rest resolves there only', () => {
    // mustache spec, "Dotted Names - Context Precedence"
    expect(render('{{#a}}{{b.c}}{{/a}}', { a: { b: {} }, b: { c: 'ERROR' } })).toBe('');
    expect(render('{{#a}}{{b.c}}{{/a}}', { a: { x: 1 }, b: { c: 'outer' } })).toBe('outer');
  });

  it('primitives are not searched: {{length}} inside a string section reaches the outer context', () => {
    expect(render('{{#s}}{{length}}{{/s}}', { s: 'abc', length: 'outer' })).toBe('outer');
  });

  it('{{values.1-0:1.8.0.value}} reaches an OBIS key of a real Reading', () => {
    const r = realReading('at-vorarlberg-kaifa-plaintext-fixture');
    const tpl = t('{{values.1-0:1.8.0.value}} {{values.1-0:1.8.0.unit}}|{{values.1-0:32.7.0.value}}|{{values.0-0:96.1.0.value}}|{{values.1-0:99.9.9.value}}|{{meter.number}}');
    expect(tpl.render(r)).toBe('1403036 Wh|233|1KFM0200182517||1KFM0200182517');
    expect(tpl.render(buildContext(r, null))).toBe('1403036 Wh|233|1KFM0200182517||1KFM0200182517');
  });

  it('sections over values_list of a real Reading list every value in order', () => {
    const r = realReading('at-tinetz-kaifa-docexample');
    const out = t('{{#values_list}}{{obis}}={{value}}{{#unit}} {{unit}}{{/unit}}{{^last}};{{/last}}{{/values_list}}').render(buildContext(r, null));
    expect(out).toBe(
      '0-0:1.0.0=2021-07-19T15:46:35+02:00;0-0:96.1.0=1KFM0100000035;0-0:42.0.0=KFM1100100000035;1-0:32.7.0=230.8 V;1-0:31.7.0=0 A;' +
        '1-0:1.7.0=0 W;1-0:2.7.0=0 W;1-0:1.8.0=9108 Wh;1-0:2.8.0=0 Wh;1-0:3.8.0=96 varh;1-0:4.8.0=9 varh',
    );
  });

  it('a JSON array over values_list places commas with {{^first}}', () => {
    const r = realReading('at-wienernetze-siemens-sel0');
    const out = t('[{{#values_list}}{{^first}},{{/first}}{"obis":"{{obis}}","name":"{{name}}"}{{/values_list}}]', 'json').render(buildContext(r, null));
    const parsed = JSON.parse(out) as { obis: string; name: string }[];
    expect(parsed.map((x) => x.obis)).toEqual(Object.keys(r.values));
    expect(parsed[2]).toEqual({ obis: '1-0:1.8.0', name: 'Active energy import' });
  });
});

describe('standalone lines', () => {
  it('a section, inverted, closing or comment tag alone on its line takes the line with it', () => {
    const src = 'begin\n  {{#l}}\n- {{.}}\n  {{/l}}\n{{^l}}\nnone\n{{/l}}\n\t{{! note }}  \nend\n';
    expect(render(src, { l: [1, 2] })).toBe('begin\n- 1\n- 2\nend\n');
    expect(render(src, { l: [] })).toBe('begin\nnone\nend\n');
  });

  it('CRLF lines and a tag on the last line without a newline', () => {
    expect(render('a\r\n{{#x}}\r\nb\r\n{{/x}}', { x: true })).toBe('a\r\nb\r\n');
  });

  it('tags sharing a line with text or another tag are not standalone; variables never are', () => {
    expect(render('a {{#x}}\nb\n{{/x}} c\n', { x: true })).toBe('a \nb\n c\n');
    expect(render('{{#x}}{{/x}}\nb', { x: true })).toBe('\nb');
    expect(render('  {{v}}\nb', { v: 1 })).toBe('  1\nb');
  });
});

describe('compile errors', () => {
  it('unclosed tag', () => {
    expect(err('abc {{name')).toEqual({ message: 'unclosed tag: {{ without }}', position: 4, line: 1, column: 5 });
    expect(err('a\nbc\n  x {{{name }')).toEqual({ message: 'unclosed tag: {{{ without }}}', position: 9, line: 3, column: 5 });
  });

  it('unclosed section: at the innermost section left open', () => {
    expect(err('line one\n  {{#a}}\nx')).toEqual({ message: 'unclosed section {{#a}}: no {{/a}}', position: 11, line: 2, column: 3 });
    expect(err('{{#a}}\n{{^b}}{{/b}}\n {{^c}}')).toEqual({ message: 'unclosed section {{^c}}: no {{/c}}', position: 21, line: 3, column: 2 });
  });

  it('mismatched closing tag: at the closing tag, naming where the open one is', () => {
    expect(err('{{#a}}\n{{#b}}\n{{/a}}')).toEqual({
      message: 'closing tag {{/a}} does not match the open section {{#b}} (line 2, column 1)',
      position: 14,
      line: 3,
      column: 1,
    });
    expect(err('x{{^inv}}y{{/other}}')).toEqual({
      message: 'closing tag {{/other}} does not match the open section {{^inv}} (line 1, column 2)',
      position: 10,
      line: 1,
      column: 11,
    });
  });

  it('closing tag without opening', () => {
    expect(err('x\n\n  {{/a}}')).toEqual({ message: 'closing tag {{/a}} without an opening {{#a}}', position: 5, line: 3, column: 3 });
    expect(err('{{#a}}{{/a}}{{/a}}')).toEqual({ message: 'closing tag {{/a}} without an opening {{#a}}', position: 12, line: 1, column: 13 });
  });

  it('empty name, for every kind of tag', () => {
    const cases: [string, string, number][] = [
      ['{{}}', '{{}}', 0],
      ['ab{{ }}', '{{ }}', 2],
      ['{{#}}', '{{#}}', 0],
      ['{{^ }}', '{{^ }}', 0],
      ['{{#a}}{{/}}', '{{/}}', 6],
      ['{{&}}', '{{&}}', 0],
      ['{{{ }}}', '{{{ }}}', 0],
    ];
    for (const [src, tag, pos] of cases) {
      expect(err(src), src).toEqual({ message: `empty name in ${tag}`, position: pos, line: 1, column: pos + 1 });
    }
  });

  it('triple mustache not closed by }}}', () => {
    expect(err('ab\n{{{x}} y')).toEqual({ message: 'triple mustache {{{ is not closed by }}}', position: 3, line: 2, column: 1 });
  });

  it('partials and set delimiters are refused, not silently rendered', () => {
    expect(err('{{> part}}')).toEqual({ message: 'partials ({{> name}}) are not supported', position: 0, line: 1, column: 1 });
    expect(err('x\n{{=<% %>=}}')).toEqual({ message: 'set delimiters ({{=…=}}) are not supported', position: 2, line: 2, column: 1 });
  });

  it('columns count UTF-16 code units from the start of the line', () => {
    expect(err('ä€\n€ä{{')).toEqual({ message: 'unclosed tag: {{ without }}', position: 5, line: 2, column: 3 });
  });
});

describe('render', () => {
  it('a compiled template renders many contexts independently', () => {
    const tpl = t('{{#l}}{{.}},{{/l}}{{x}}');
    expect(tpl.render({ l: [1, 2], x: 'a' })).toBe('1,2,a');
    expect(tpl.render({ l: [], x: 'b' })).toBe('b');
    expect(tpl.render({ x: 'c' })).toBe('c');
  });

  it('never throws: a cycle renders as nothing, a throwing getter empties the output', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(render('[{{c}}]{{c.a}}', { c: cyclic })).toBe('[]1');
    const hostile = {
      get boom(): string {
        throw new Error('no');
      },
    };
    expect(render('x{{boom}}y', hostile)).toBe('');
    const big = { b: BigInt(5), o: { b: BigInt(1) } };
    expect(render('{{b}}|{{o}}', big)).toBe('5|');
  });
});

describe('typos people make', () => {
  it('a tag missing one closing brace is an error at that tag, not a strange name', () => {
    const r = compileTemplate('{"power": {{power_import_w}, "meter": "{{meter_number}}"}', 'json');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toEqual({ message: 'tag {{power_import_w}, "meter": " is not closed with }} before the next {{', position: 10, line: 1, column: 11 });
  });

  it('a tag may not run over a line break', () => {
    const r = compileTemplate('a {{x\n}}', 'none');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toBe('a tag must not span lines: is a }} missing?');
    expect(compileTemplate('{{! a comment\nover two lines }}ok', 'none').ok).toBe(true);
  });
});
