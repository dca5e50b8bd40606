/**
 * Errors are data. Every layer reports a problem as a DecodeError value with a closed `kind`, the
 * byte offset where it was found and a sentence for a person; nothing in the core throws on bad
 * input. `offset` counts bytes of the input stream fed to the decoder (the pasted frame, the
 * serial port since start) whenever the layer can tell; for problems inside a decrypted APDU it is
 * the stream offset of the corresponding ciphertext byte.
 */

export type ErrorKind =
  | 'checksum' // M-Bus checksum or HDLC HCS/FCS wrong
  | 'length' // length fields disagree or are impossible
  | 'stop-byte' // M-Bus frame does not end in 0x16 / HDLC frame not closed by 0x7E
  | 'overflow' // a frame or reassembled APDU larger than the fixed buffers
  | 'segment-order' // a segment or GBT block arrived out of sequence
  | 'unknown-apdu' // the APDU tag is not one we can decode
  | 'truncated' // the data ended before a field it announced
  | 'missing-key' // an encrypted push arrived and no key is configured
  | 'wrong-key-or-corrupt' // decryption gave something that is not a valid APDU
  | 'tag-mismatch' // the GCM tag does not verify with the authentication key
  | 'security' // a security control byte we cannot handle (compression, unknown bits)
  | 'axdr' // the A-XDR data is malformed
  | 'layout' // the notification decodes but holds no value we recognise, or not for certain
  | 'implausible' // a well-formed push no real meter can send (plausibility guard): never published
  | 'garbage'; // bytes between frames that belong to no frame

export interface DecodeError {
  kind: ErrorKind;
  offset: number;
  detail: string;
  /** implausible only: the rule the push broke, the value (and its OBIS code) and the accepted one before */
  rule?: string;
  obis?: string;
  value?: number | string | null;
  previous?: number | string | null;
}

export function decodeError(kind: ErrorKind, offset: number, detail: string): DecodeError {
  return { kind, offset, detail };
}

/** `error: <kind> at byte <offset>: <detail>`, the one line format of the CLI and the logs. */
export function formatError(e: DecodeError): string {
  return `error: ${e.kind} at byte ${e.offset}: ${e.detail}`;
}
