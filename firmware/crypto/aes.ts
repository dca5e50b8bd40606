/**
 * AES-128, forward cipher only (GCM and CTR never run the inverse cipher). Knows nothing of modes,
 * IVs or tags: it expands a 16-byte key into 44 round-key words and encrypts single 16-byte blocks.
 *
 * Tables (S-box and four T-tables, 4.25 KB) are computed here at module load from the GF(2^8)
 * definition rather than typed in, so there is no 1 KB hex literal to mistype; importing the module
 * does nothing else. They are module-level consts and only ever read (typed arrays with elements
 * cannot be Object.freeze'd; when XS preloads the module they land in flash, where typed arrays are
 * read-only anyway). Nothing here writes module-level state, and encrypting a block allocates
 * nothing.
 *
 * Not constant-time: table lookups are indexed by secret state, as in every T-table AES. Fine for
 * a receiver of meter pushes, where no attacker can time the cipher on the device.
 */

/** Round-key words of an expanded AES-128 key: 11 round keys of 4 words. */
export const AES128_ROUND_KEY_WORDS = 44;

const SBOX = new Uint8Array(256);
// Te0[x] = the MixColumns column of S[x] (2·s, s, s, 3·s), big-endian; Te1..Te3 are its byte
// rotations, so one round is 16 lookups and 16 XORs.
const TE0 = new Uint32Array(256);
const TE1 = new Uint32Array(256);
const TE2 = new Uint32Array(256);
const TE3 = new Uint32Array(256);

function buildTables(): void {
  // Walk the multiplicative group with generator 3: p runs through all non-zero elements while q
  // runs through their inverses (q is divided by 3 each step), giving inv(p) without a log table.
  let p = 1;
  let q = 1;
  do {
    p = p ^ ((p << 1) & 0xff) ^ (p & 0x80 ? 0x1b : 0);
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    // affine transform: q ^ rotl(q,1) ^ rotl(q,2) ^ rotl(q,3) ^ rotl(q,4) ^ 0x63
    const x = q ^ (((q << 1) | (q >>> 7)) & 0xff) ^ (((q << 2) | (q >>> 6)) & 0xff) ^ (((q << 3) | (q >>> 5)) & 0xff) ^ (((q << 4) | (q >>> 4)) & 0xff);
    SBOX[p] = x ^ 0x63;
  } while (p !== 1);
  SBOX[0] = 0x63; // 0 has no inverse; the S-box maps it to the affine constant
  for (let i = 0; i < 256; i++) {
    const s = SBOX[i];
    const s2 = ((s << 1) ^ (s & 0x80 ? 0x1b : 0)) & 0xff;
    const s3 = s2 ^ s;
    const t = ((s2 << 24) | (s << 16) | (s << 8) | s3) >>> 0;
    TE0[i] = t;
    TE1[i] = ((t >>> 8) | (t << 24)) >>> 0;
    TE2[i] = ((t >>> 16) | (t << 16)) >>> 0;
    TE3[i] = ((t >>> 24) | (t << 8)) >>> 0;
  }
}
buildTables();

const RCON = Uint8Array.of(0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36);

/**
 * Expands a 16-byte key into 44 round-key words. Pass `out` to reuse a buffer (it must hold 44
 * words); otherwise one is allocated. Throws a plain Error for a key that is not 16 bytes.
 */
export function expandKey128(key: Uint8Array, out: Uint32Array = new Uint32Array(AES128_ROUND_KEY_WORDS)): Uint32Array {
  if (key.length !== 16) throw new Error(`an AES-128 key has 16 bytes, not ${key.length}`);
  if (out.length < AES128_ROUND_KEY_WORDS) throw new Error(`an AES-128 key schedule needs ${AES128_ROUND_KEY_WORDS} words, not ${out.length}`);
  for (let i = 0; i < 4; i++) {
    out[i] = (key[4 * i] << 24) | (key[4 * i + 1] << 16) | (key[4 * i + 2] << 8) | key[4 * i + 3];
  }
  for (let i = 4; i < AES128_ROUND_KEY_WORDS; i++) {
    let t = out[i - 1];
    if ((i & 3) === 0) {
      // RotWord, SubWord, Rcon
      t = ((SBOX[(t >>> 16) & 0xff] << 24) | (SBOX[(t >>> 8) & 0xff] << 16) | (SBOX[t & 0xff] << 8) | SBOX[t >>> 24]) ^ (RCON[(i >>> 2) - 1] << 24);
    }
    out[i] = out[i - 4] ^ t;
  }
  return out;
}

/**
 * Encrypts the block given as four big-endian words and writes the result into out[0..3].
 * The word form lets CTR build counter blocks and GCM take H and E(J0) without byte shuffling.
 */
export function encryptWords(rk: Uint32Array, w0: number, w1: number, w2: number, w3: number, out: Uint32Array): void {
  let s0 = w0 ^ rk[0];
  let s1 = w1 ^ rk[1];
  let s2 = w2 ^ rk[2];
  let s3 = w3 ^ rk[3];
  let k = 4;
  for (let r = 1; r < 10; r++) {
    const t0 = TE0[s0 >>> 24] ^ TE1[(s1 >>> 16) & 0xff] ^ TE2[(s2 >>> 8) & 0xff] ^ TE3[s3 & 0xff] ^ rk[k];
    const t1 = TE0[s1 >>> 24] ^ TE1[(s2 >>> 16) & 0xff] ^ TE2[(s3 >>> 8) & 0xff] ^ TE3[s0 & 0xff] ^ rk[k + 1];
    const t2 = TE0[s2 >>> 24] ^ TE1[(s3 >>> 16) & 0xff] ^ TE2[(s0 >>> 8) & 0xff] ^ TE3[s1 & 0xff] ^ rk[k + 2];
    const t3 = TE0[s3 >>> 24] ^ TE1[(s0 >>> 16) & 0xff] ^ TE2[(s1 >>> 8) & 0xff] ^ TE3[s2 & 0xff] ^ rk[k + 3];
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
    k += 4;
  }
  // last round: no MixColumns, so plain S-box bytes
  out[0] = ((SBOX[s0 >>> 24] << 24) | (SBOX[(s1 >>> 16) & 0xff] << 16) | (SBOX[(s2 >>> 8) & 0xff] << 8) | SBOX[s3 & 0xff]) ^ rk[40];
  out[1] = ((SBOX[s1 >>> 24] << 24) | (SBOX[(s2 >>> 16) & 0xff] << 16) | (SBOX[(s3 >>> 8) & 0xff] << 8) | SBOX[s0 & 0xff]) ^ rk[41];
  out[2] = ((SBOX[s2 >>> 24] << 24) | (SBOX[(s3 >>> 16) & 0xff] << 16) | (SBOX[(s0 >>> 8) & 0xff] << 8) | SBOX[s1 & 0xff]) ^ rk[42];
  out[3] = ((SBOX[s3 >>> 24] << 24) | (SBOX[(s0 >>> 16) & 0xff] << 16) | (SBOX[(s1 >>> 8) & 0xff] << 8) | SBOX[s2 & 0xff]) ^ rk[43];
}

/**
 * Encrypts the 16 bytes at input[inOff..] into output[outOff..] (the two may be the same bytes).
 * The caller keeps both ranges in bounds. Same rounds as encryptWords, written out again so the
 * byte form needs no scratch array (module-level typed arrays are read-only once XS preloads them).
 */
export function encryptBlock(rk: Uint32Array, input: Uint8Array, inOff: number, output: Uint8Array, outOff: number): void {
  const i = inOff;
  let s0 = ((input[i] << 24) | (input[i + 1] << 16) | (input[i + 2] << 8) | input[i + 3]) ^ rk[0];
  let s1 = ((input[i + 4] << 24) | (input[i + 5] << 16) | (input[i + 6] << 8) | input[i + 7]) ^ rk[1];
  let s2 = ((input[i + 8] << 24) | (input[i + 9] << 16) | (input[i + 10] << 8) | input[i + 11]) ^ rk[2];
  let s3 = ((input[i + 12] << 24) | (input[i + 13] << 16) | (input[i + 14] << 8) | input[i + 15]) ^ rk[3];
  let k = 4;
  for (let r = 1; r < 10; r++) {
    const t0 = TE0[s0 >>> 24] ^ TE1[(s1 >>> 16) & 0xff] ^ TE2[(s2 >>> 8) & 0xff] ^ TE3[s3 & 0xff] ^ rk[k];
    const t1 = TE0[s1 >>> 24] ^ TE1[(s2 >>> 16) & 0xff] ^ TE2[(s3 >>> 8) & 0xff] ^ TE3[s0 & 0xff] ^ rk[k + 1];
    const t2 = TE0[s2 >>> 24] ^ TE1[(s3 >>> 16) & 0xff] ^ TE2[(s0 >>> 8) & 0xff] ^ TE3[s1 & 0xff] ^ rk[k + 2];
    const t3 = TE0[s3 >>> 24] ^ TE1[(s0 >>> 16) & 0xff] ^ TE2[(s1 >>> 8) & 0xff] ^ TE3[s2 & 0xff] ^ rk[k + 3];
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
    k += 4;
  }
  const o = outOff;
  const r0 = rk[40];
  const r1 = rk[41];
  const r2 = rk[42];
  const r3 = rk[43];
  output[o] = SBOX[s0 >>> 24] ^ (r0 >>> 24);
  output[o + 1] = SBOX[(s1 >>> 16) & 0xff] ^ (r0 >>> 16);
  output[o + 2] = SBOX[(s2 >>> 8) & 0xff] ^ (r0 >>> 8);
  output[o + 3] = SBOX[s3 & 0xff] ^ r0;
  output[o + 4] = SBOX[s1 >>> 24] ^ (r1 >>> 24);
  output[o + 5] = SBOX[(s2 >>> 16) & 0xff] ^ (r1 >>> 16);
  output[o + 6] = SBOX[(s3 >>> 8) & 0xff] ^ (r1 >>> 8);
  output[o + 7] = SBOX[s0 & 0xff] ^ r1;
  output[o + 8] = SBOX[s2 >>> 24] ^ (r2 >>> 24);
  output[o + 9] = SBOX[(s3 >>> 16) & 0xff] ^ (r2 >>> 16);
  output[o + 10] = SBOX[(s0 >>> 8) & 0xff] ^ (r2 >>> 8);
  output[o + 11] = SBOX[s1 & 0xff] ^ r2;
  output[o + 12] = SBOX[s3 >>> 24] ^ (r3 >>> 24);
  output[o + 13] = SBOX[(s0 >>> 16) & 0xff] ^ (r3 >>> 16);
  output[o + 14] = SBOX[(s1 >>> 8) & 0xff] ^ (r3 >>> 8);
  output[o + 15] = SBOX[s2 & 0xff] ^ r3;
}
