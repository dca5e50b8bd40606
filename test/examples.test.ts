// The README's and examples/README.md's commands, run as written: every shell line that calls
// `meterbridge decode` or `simulate` (or asks for --help) runs through the real bin script from
// the repository root, and must exit as documented (0, or the `# exit N` written after it) and,
// for decode, print Readings. The documented Reading and error lines must be what the commands
// print, and every example capture is a real push of the fixtures, listed with its key.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { vectors } from './helpers.js';

const root = process.cwd();
const BIN = join(root, 'bin', 'meterbridge.mjs');
const built = existsSync(join(root, 'dist', 'node', 'cli.js'));

/** The fenced blocks of a markdown file, with their language. */
function blocks(file: string): { lang: string; text: string }[] {
  const md = readFileSync(join(root, file), 'utf8');
  return [...md.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], text: m[2] }));
}

interface Command {
  file: string;
  line: string;
  exit: number;
}

/** The runnable command lines: the CLI's decode and simulate, and help. */
function commands(file: string): Command[] {
  return blocks(file)
    .filter((b) => b.lang === 'sh')
    .flatMap((b) => b.text.split('\n'))
    .filter((l) => /\bmeterbridge (decode|simulate)\b|meterbridge [a-z]+ --help/.test(l) && !l.trimStart().startsWith('#'))
    .map((line) => ({ file, line: line.replace(/\s+#.*$/, ''), exit: Number(/#\s*exit (\d+)/.exec(line)?.[1] ?? 0) }));
}

function run(line: string) {
  const shell = line.replaceAll('npx meterbridge', `"${process.execPath}" "${BIN}"`);
  const r = spawnSync('sh', ['-c', shell], { cwd: root, encoding: 'utf8', timeout: 15_000 });
  return { code: r.status, out: r.stdout.split('\n').filter(Boolean), err: r.stderr.split('\n').filter(Boolean) };
}

const all = [...commands('README.md'), ...commands('examples/README.md')];

describe.skipIf(!built)('the commands of the README and examples/README.md, as written', () => {
  it('there are commands to run, one per example capture at least', () => {
    const captures = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.hex'));
    expect(captures.length).toBeGreaterThanOrEqual(5);
    for (const f of captures) expect(all.some((c) => c.line.includes(`examples/${f}`)), f).toBe(true);
  });

  it.each(all.map((c) => [c.file, c.line, c] as const))('%s: %s', (_file, _line, c: Command) => {
    const r = run(c.line);
    expect(r.code, r.err.join('\n')).toBe(c.exit);
    if (/meterbridge decode/.test(c.line) && !c.line.includes('--help')) {
      expect(r.out.length).toBeGreaterThan(0);
      for (const l of r.out) expect(Object.keys(JSON.parse(l))).toEqual(expect.arrayContaining(['meter', 'timestamp', 'values']));
    } else expect(r.out.length).toBeGreaterThan(0);
  });

  it('the Reading shown in the README is what its first command prints', () => {
    const first = commands('README.md').find((c) => /meterbridge decode .*examples\//.test(c.line))!;
    const printed = JSON.parse(run(first.line).out[0]);
    const shown = JSON.parse(blocks('README.md').find((b) => b.lang === 'json' && b.text.includes('"frameCounter"'))!.text);
    expect(printed).toMatchObject(shown);
  });

  it('the error line shown for the mid-stream capture is what it prints', () => {
    const mid = commands('examples/README.md').find((c) => c.line.includes('midstream'))!;
    const shown = blocks('examples/README.md').find((b) => b.lang === '' && b.text.startsWith('error: '))!.text.trim().split('\n');
    expect(run(mid.line).err).toEqual(shown);
  });
});

describe('the example captures', () => {
  const table = readFileSync(join(root, 'examples', 'README.md'), 'utf8');
  const captures = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.hex'));

  it.each(captures)('%s: real pushes of a fixture, listed with the fixture\'s key', (f) => {
    const text = readFileSync(join(root, 'examples', f), 'utf8').replace(/\s+/g, '').toUpperCase();
    const source = vectors.find((v) => v.key && text.includes(v.frames_hex.join('').toUpperCase()))!;
    expect(source, `${f} holds no whole push of test/fixtures/real-meters.json`).toBeDefined();
    // every byte belongs to that fixture's frames
    let rest = text;
    for (const frame of source.frames_hex) rest = rest.replaceAll(frame.toUpperCase(), '');
    expect(rest).toBe('');
    const row = table.split('\n').find((l) => l.startsWith(`| \`${f}\``));
    expect(row, `examples/README.md has no row for ${f}`).toBeDefined();
    expect(row).toContain(`\`${source.key!.toUpperCase()}\``);
    expect(table).toContain(`--key ${source.key!.toUpperCase()} examples/${f}`);
  });
});
