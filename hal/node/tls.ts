/**
 * TLS trust on the host, shared by MQTT and HTTP push: a CA certificate to trust besides the
 * system's, or a pinned SHA-256 fingerprint (then any certificate with that fingerprint is
 * accepted, self-signed included, and no other). And network and TLS errors in words.
 */
import type { TLSSocket } from 'node:tls';

export interface Trust {
  ca?: string;
  fingerprint?: string;
}

/** Options for tls.connect / https.request. With a pin, the chain is not checked: the pin is. */
export function tlsOptions(t: Trust): { ca?: string; rejectUnauthorized: boolean } {
  if (t.fingerprint) return { rejectUnauthorized: false };
  return t.ca ? { ca: t.ca, rejectUnauthorized: true } : { rejectUnauthorized: true };
}

/** After the handshake: null when the server's certificate is trusted, else why not. */
export function pinProblem(socket: TLSSocket, t: Trust, where: string): string | null {
  if (!t.fingerprint) return null;
  const got = socket.getPeerCertificate()?.fingerprint256 ?? '';
  if (got.toUpperCase() === t.fingerprint.toUpperCase()) return null;
  return `the certificate of ${where} is not the pinned one: its SHA-256 fingerprint is ${got || 'unknown'}; if the server got a new certificate, enter this fingerprint`;
}

const TLS_WORDS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'uses a self-signed certificate: enter its CA certificate or its SHA-256 fingerprint to trust it',
  SELF_SIGNED_CERT_IN_CHAIN: 'has a certificate from a private CA: enter that CA certificate to trust it',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'has a certificate that no trusted CA signed: enter the CA certificate, or its SHA-256 fingerprint',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'has a certificate that no trusted CA signed: enter the CA certificate, or its SHA-256 fingerprint',
  CERT_HAS_EXPIRED: 'has an expired certificate (or this device\'s clock is wrong)',
  CERT_NOT_YET_VALID: 'has a certificate that is not valid yet (or this device\'s clock is wrong)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'has a certificate for another name: use the host name the certificate is for',
};

/** A network or TLS error as a sentence about `where` (host:port or the URL's origin). */
export function describeNetError(err: { code?: string; message?: string }, host: string, where: string): string {
  const code = err.code ?? '';
  if (TLS_WORDS[code]) return `${where} ${TLS_WORDS[code]} (${code})`;
  switch (code) {
    case 'ECONNREFUSED':
      return `connection refused by ${where}: is the server running, and is this its port?`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host name "${host}" not found (${code})`;
    case 'ETIMEDOUT':
      return `no answer from ${where} (${code})`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} cannot be reached from this network (${code})`;
    case 'ECONNRESET':
    case 'EPIPE':
      return `the connection to ${where} was reset (${code})`;
  }
  if (/CERT|SSL|TLS|SIGNATURE|ALTNAME/.test(code)) return `TLS with ${where} failed: ${err.message} (${code})`;
  return `connection to ${where} failed: ${err.message ?? 'unknown error'}${code ? ` (${code})` : ''}`;
}
