// The benches' real pushes as a meter sends them one after another: the plausibility guard (on in
// the gateway and in `meterbridge decode`) refuses a push whose frame counter does not grow, so
// pushing the same bytes again measures a refusal, not a decode. A series is the fixture's push
// re-encrypted with its own key under the next frame counters (test/helpers.ts `reencrypt`,
// bundled here with esbuild: checksums, and the tag when the fixture has the authentication key,
// recomputed). A push spread over General-Block-Transfer blocks comes back as one HDLC frame.
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';

const helpersFile = fileURLToPath(new URL('../test/helpers.ts', import.meta.url));
const out = await build({
  entryPoints: [helpersFile],
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
  logLevel: 'error',
  define: { 'import.meta.url': JSON.stringify(pathToFileURL(helpersFile).href) }, // its fixture paths
});
export const helpers = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);

/** Can the fixture be re-encrypted (general-glo-ciphering with its key)? */
export function reencryptable(v) {
  if (!v.key) return false;
  try {
    return helpers.apduOf(v)[0] === 0xdb;
  } catch {
    return false;
  }
}

/**
 * `n` pushes of the fixture under frame counters first, first + 1, … (first defaults to the one
 * after the fixture's own), each the bytes as they arrive on the wire.
 */
export function series(v, n, first) {
  const start = first ?? helpers.reencrypt(v).counter + 1;
  const pushes = [];
  for (let i = 0; i < n; i++) pushes.push(helpers.reencrypt(v, { counter: start + i }).wire);
  return pushes;
}

/** The link frames in a push's bytes (M-Bus long frames, or HDLC frames by their length field). */
export function frameCount(bytes) {
  let n = 0;
  for (let p = 0; p < bytes.length; n++) {
    if (bytes[p] === 0x68) p += bytes[p + 1] + 6;
    else if (bytes[p] === 0x7e) p += (((bytes[p + 1] & 0x07) << 8) | bytes[p + 2]) + 2;
    else return n + 1; // a bare APDU
  }
  return n;
}
