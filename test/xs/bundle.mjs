// Builds an entry (test/xs/entry.ts, or any entry that imports the core) into ONE classic script
// for XS: rollup's JS API + @rollup/plugin-typescript with ./tsconfig.build.json, format IIFE, so
// xsnap-worker can `eval` it (its `e` command). Nothing may stay external: an import rollup cannot
// resolve (a `node:` module, a package) fails the build instead of becoming an IIFE parameter.
// Plain .mjs so bench/xs.mjs can use it without a TypeScript loader.
import { rollup } from 'rollup';
import typescript from '@rollup/plugin-typescript';
import ts from 'typescript';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const xsEntry = fileURLToPath(new URL('./entry.ts', import.meta.url));

/**
 * tsconfig.build.json compiles only the files its `include` lists (firmware/, hal/...), and the
 * plugin cannot add an entry outside that list. So a generated config extends it unchanged and
 * only adds test/xs/ (and the entry) to its include; it lives under node_modules/.cache so @types
 * resolve as from the root.
 */
function tsconfigFor(entry) {
  const dir = `${root}node_modules/.cache/meterbridge-xs`;
  mkdirSync(dir, { recursive: true });
  const file = `${dir}/tsconfig.json`;
  const base = ts.readConfigFile(`${root}tsconfig.build.json`, ts.sys.readFile);
  if (base.error) throw new Error(`tsconfig.build.json: ${ts.flattenDiagnosticMessageText(base.error.messageText, '\n')}`);
  const include = [...(base.config.include ?? []).map((p) => `${root}${p}`), `${root}test/xs/**/*.ts`];
  if (!entry.startsWith(`${root}test/xs/`)) include.push(entry);
  const config = { extends: `${root}tsconfig.build.json`, include };
  const text = JSON.stringify(config, null, 2);
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  return file;
}

/** @returns {Promise<string>} the script's code */
export async function buildXsScript(entry = xsEntry) {
  const warnings = [];
  const bundle = await rollup({
    input: entry,
    plugins: [
      typescript({ tsconfig: tsconfigFor(entry), noEmitOnError: true, outputToFilesystem: false }),
    ],
    onwarn: (w) => warnings.push(w),
  });
  try {
    const fatal = warnings.filter((w) => w.code !== 'CIRCULAR_DEPENDENCY');
    if (fatal.length) throw new Error(`bundling ${entry} for XS:\n${fatal.map((w) => `  ${w.code}: ${w.message}`).join('\n')}`);
    const { output } = await bundle.generate({ format: 'iife', strict: true, generatedCode: 'es2015' });
    if (output.length !== 1) throw new Error(`expected one chunk, got ${output.length}`);
    return output[0].code;
  } finally {
    await bundle.close();
  }
}
