#!/usr/bin/env node
// Builds the web UI into one self-contained, gzipped HTML page.
//
//   web-ui/src/main.ts ──rollup + @rollup/plugin-typescript (type-checked)──► one IIFE script
//   web-ui/src/style.css ──strip comments and white space──► inline <style>
//   web-ui/src/index.html ──strip comments, white space between lines──► + style + script
//   ──► dist/web-ui/index.html, index.html.gz (zlib level 9), asset.json (base64 of the .gz)
//   web-ui/de.txt (English and German, in pairs) ──keys hashed (src/i18n-key.mjs)──► de.txt.gz,
//   the German table the UI fetches from /ui/de when German is chosen (asset.json: deBase64)
//   web-ui/src/history.ts ──the same bundling and minifying──► history.js.gz, the History page's
//   code, which the page loads from /ui/history when it is first opened (asset.json: historyBase64)
//
// Fails (exit 1) on a type error, a malformed translation, or when the gzipped page is over 20 KB,
// the gzipped German table over 12 KB or the gzipped History script over 6 KB. Dependencies: rollup, @rollup/plugin-typescript,
// typescript, and esbuild to minify the script.
//
// Usage: node web-ui/build.mjs   (from any directory)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync, constants } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup } from 'rollup';
import typescript from '@rollup/plugin-typescript';
import esbuild from 'esbuild';
import { hash, template } from './src/i18n-key.mjs';

const LIMIT = 20 * 1024;
const LANG_LIMIT = 12 * 1024;
const HISTORY_LIMIT = 6 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const src = join(here, 'src');
const out = join(root, 'dist', 'web-ui');

/** Bundles and type-checks the TypeScript; the compiler options live here, not in a tsconfig. */
async function script(entry) {
  const warnings = [];
  const bundle = await rollup({
    input: join(src, entry),
    onwarn: (w) => warnings.push(w),
    plugins: [
      typescript({
        tsconfig: false,
        include: ['web-ui/src/**/*.ts', 'firmware/**/*.ts'],
        noEmitOnError: true,
        compilerOptions: {
          target: 'ES2020',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          lib: ['ES2022', 'DOM', 'DOM.Iterable'],
          types: [],
          strict: true,
          noUnusedLocals: true,
          noFallthroughCasesInSwitch: true,
          isolatedModules: true,
          skipLibCheck: true,
          removeComments: true,
          sourceMap: false,
          declaration: false,
        },
      }),
    ],
  });
  const { output } = await bundle.generate({ format: 'iife', compact: true, indent: false });
  await bundle.close();
  // type errors arrive as plugin warnings; noEmitOnError already stopped the emit, make it loud
  const errors = warnings.filter((w) => w.plugin === 'typescript');
  for (const w of warnings) console.error(`web-ui: ${w.plugin ? w.plugin + ': ' : ''}${w.message}`);
  if (errors.length) throw new Error(`${errors.length} TypeScript problem(s)`);
  return output[0].code.trim();
}

/**
 * web-ui/de.txt: pairs of lines, English then German, pairs separated by a blank line, `#` starts
 * a comment line. `{}` in the English stands for a number or a quoted text of the message and the
 * German has as many, in the same order. The table keeps only the hashed English.
 */
export function germanTable(text) {
  const rows = new Map();
  const problems = [];
  const blocks = text.split('\n').filter((l) => !l.startsWith('#')).join('\n').split(/\n[ \t]*\n/);
  for (const block of blocks) {
    const lines = block.split('\n').filter((l) => l.trim());
    if (!lines.length) continue;
    const [en, de] = lines;
    if (lines.length !== 2) {
      problems.push(`"${lines[0]}": ${lines.length} lines, not English and German`);
      continue;
    }
    const count = (s) => s.split('{}').length - 1;
    if (count(en) !== count(de)) problems.push(`"${en}": ${count(en)} placeholders in English, ${count(de)} in German`);
    if (count(en) && template(en.replaceAll('{}', '7')).key !== en) problems.push(`"${en}": a number or quoted text besides the {} would stop it matching; use {} there too`);
    const key = hash(en);
    if (rows.has(key)) problems.push(`"${en}": given twice, or its key collides with another`);
    rows.set(key, de);
  }
  if (problems.length) throw new Error(`web-ui/de.txt:\n  ${problems.join('\n  ')}`);
  return [...rows].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => k + v).join('\n') + '\n';
}

/** Comments out, white space to single spaces, none around punctuation that allows it. */
export function minifyCss(css) {
  return css
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*([{};,>])\s*/g, '$1')
    .replace(/:\s+/g, ':')
    .replace(/;}/g, '}')
    .trim();
}

/**
 * Comments out; white space that contains a line break between two tags is dropped (the source
 * keeps inline text on one line, see index.html); other runs of white space become one space;
 * attribute values that need no quotes in HTML lose them. <pre> and <textarea> in the source are
 * empty, so nothing there is touched.
 */
export function minifyHtml(html) {
  return html
    .replace(/<!--(?!STYLE|SCRIPT)[\s\S]*?-->/g, '')
    .replace(/>\s*\n\s*</g, '><')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/<[a-z][^>]*>/g, (tag) => tag.replace(/="([\w.:/#-]+)"/g, '=$1'))
    .trim();
}

async function main() {
  // the plugin resolves its patterns and the program from the working directory
  process.chdir(root);
  // esbuild shortens names and drops white space; the language table needs the room
  const minify = async (entry) => (await esbuild.transform(await script(entry), { minify: true, target: 'es2020', charset: 'utf8' })).code.trim();
  const js = await minify('main.ts');
  const historyJs = Buffer.from(await minify('history.ts'), 'utf8');
  const css = minifyCss(readFileSync(join(src, 'style.css'), 'utf8'));
  let html = minifyHtml(readFileSync(join(src, 'index.html'), 'utf8'));
  if (!html.includes('<!--STYLE-->') || !html.includes('<!--SCRIPT-->')) throw new Error('index.html lacks <!--STYLE--> or <!--SCRIPT-->');
  // no "</script" or "<!--" inside the inline script or "</style" inside the style
  const safeJs = js.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
  if (/<\/style/i.test(css)) throw new Error('style.css contains </style');
  // functions as replacements: a "$" in the code must not be read as a replacement pattern
  html = html.replace('<!--STYLE-->', () => `<style>${css}</style>`).replace('<!--SCRIPT-->', () => `<script>${safeJs}</script>`);

  const bytes = Buffer.from(html, 'utf8');
  const gz = gzipSync(bytes, { level: constants.Z_BEST_COMPRESSION });
  const sha256 = createHash('sha256').update(gz).digest('hex');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'index.html'), bytes);
  writeFileSync(join(out, 'index.html.gz'), gz);
  const de = gzipSync(Buffer.from(germanTable(readFileSync(join(here, 'de.txt'), 'utf8')), 'utf8'), { level: constants.Z_BEST_COMPRESSION });
  writeFileSync(join(out, 'de.txt.gz'), de);
  const history = gzipSync(historyJs, { level: constants.Z_BEST_COMPRESSION });
  writeFileSync(join(out, 'history.js'), historyJs);
  writeFileSync(join(out, 'history.js.gz'), history);
  writeFileSync(join(out, 'asset.json'), JSON.stringify({ gzipBase64: gz.toString('base64'), sha256, bytes: bytes.length, gzipBytes: gz.length, deBase64: de.toString('base64'), historyBase64: history.toString('base64') }) + '\n');

  const kb = (n) => (n / 1024).toFixed(1) + ' KB';
  console.log(`web-ui: index.html ${kb(bytes.length)} (script ${kb(js.length)}, style ${kb(css.length)}), gzipped ${gz.length} bytes = ${kb(gz.length)} of ${kb(LIMIT)}`);
  console.log(`web-ui: German table de.txt.gz ${de.length} bytes = ${kb(de.length)} of ${kb(LANG_LIMIT)} (esbuild ${esbuild.version})`);
  console.log(`web-ui: History page history.js ${kb(historyJs.length)}, gzipped ${history.length} bytes = ${kb(history.length)} of ${kb(HISTORY_LIMIT)}`);
  if (gz.length > LIMIT) {
    console.error(`web-ui: FAIL: the gzipped page is ${gz.length} bytes, over the limit of ${LIMIT}`);
    process.exit(1);
  }
  if (history.length > HISTORY_LIMIT) {
    console.error(`web-ui: FAIL: the gzipped History script is ${history.length} bytes, over the limit of ${HISTORY_LIMIT}`);
    process.exit(1);
  }
  if (de.length > LANG_LIMIT) {
    console.error(`web-ui: FAIL: the gzipped German table is ${de.length} bytes, over the limit of ${LANG_LIMIT}`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error('web-ui: build failed: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
