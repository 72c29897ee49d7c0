/**
 * How the receipt golden vectors are made (test/vectors/receipts/README.md). The generator writes
 * them; the tests re-derive them and require byte equality, so code and vectors cannot drift.
 */
import {
  createReceiptText,
  type MlDsaAlgorithm,
  parseReceipt,
  privateKeyFromSeed,
  publicKeyToPem,
  type ReceiptDocument,
  signReceipt,
  toBase64,
  toHex,
  utf8,
} from '../../core/index.js';

export interface PositiveVector {
  name: string;
  description: string;
  signers: { alg: MlDsaAlgorithm; seed: string; keyId: string; publicKeyPem: string }[];
  document: string;
  receiptText: string;
  mu: string;
  digest: string;
}

export interface NegativeVector {
  name: string;
  description: string;
  /** The `.mu` bytes, base64 (some are not valid UTF-8). */
  muBase64: string;
  /** The key ids the verifier knows (from the positive vector `minimal`). */
  code: string;
}

/** Seed i: bytes (i*32 + 0) … (i*32 + 31) mod 256. */
export function fixedSeed(i: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, j) => (i * 32 + j) % 256);
}

export const MINIMAL_DOCUMENT: ReceiptDocument = {
  fields: {
    format: 'torgo.receipt/1',
    id: '01JDQ3J7E5V2W8X9Y0Z1A2B3C4',
    source: 'icu-relay-3',
    operation: 'vitals.forward',
    subject: 'urn:torgo:subject:7f3a9c',
    occurredAt: '2026-11-25T13:07:48.123Z',
    payloadDigests: ['sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'],
    refs: ['01JDQ3HZZZ0000000000000000'],
  },
  sections: [
    { name: 'Intent', lines: ['Forward vitals batch 42 to the EHR bridge.'] },
    { name: 'Context', lines: ['Relay firmware 3.1.4; link quality nominal.'] },
  ],
};

const RICH_DOCUMENT: ReceiptDocument = {
  fields: {
    format: 'torgo.receipt/1',
    id: '0192f0a4-7c1e-7d2b-9a4f-3b5c6d7e8f90',
    source: 'mission-control/orbit-planner@ops',
    operation: 'burn.plan.approve',
    subject: 'sat:TORGO-7#burn=42',
    occurredAt: '2026-11-25T00:00:00Z',
    payloadDigests: [
      'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'sha3-256:a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a',
    ],
  },
  sections: [
    { name: 'Intent', lines: ['Approve burn plan 42 (Δv = 1.2 m/s) — café crew sign-off ✅', '', '### Checks', '- fuel margin ok', '- attitude ok', '1. uplink window 14:05Z', '> relayed by ground station Kourou'] },
    { name: 'Code_Blocks', lines: ['```json', '{"burn": 42, "dv": 1.2}', '```', '~~~', '  indented: 日本語テキスト', '~~~'] },
    { name: 'History', lines: ['Plan 41 superseded after review.'] },
  ],
};

function positive(
  name: string,
  description: string,
  doc: ReceiptDocument,
  signers: { alg: MlDsaAlgorithm; seed: number }[],
): PositiveVector {
  const receiptText = createReceiptText(doc);
  let mu = receiptText;
  const keys = signers.map((s) => privateKeyFromSeed(s.alg, fixedSeed(s.seed)));
  for (const key of keys) mu = signReceipt(parseReceipt(mu), key, { deterministic: true });
  const parsed = parseReceipt(mu);
  return {
    name,
    description,
    signers: keys.map((k) => ({ alg: k.alg, seed: toHex(k.seed), keyId: k.keyId, publicKeyPem: publicKeyToPem(k) })),
    document: parsed.sourceText,
    receiptText,
    mu,
    digest: parsed.digest,
  };
}

export function buildPositiveVectors(): PositiveVector[] {
  return [
    positive('minimal', 'The worked example of docs/receipt-format.md §3 and §8, ML-DSA-65.', MINIMAL_DOCUMENT, [
      { alg: 'ML-DSA-65', seed: 0 },
    ]),
    positive('ml-dsa-44', 'The minimal document signed with ML-DSA-44.', MINIMAL_DOCUMENT, [{ alg: 'ML-DSA-44', seed: 1 }]),
    positive('ml-dsa-87', 'The minimal document signed with ML-DSA-87.', MINIMAL_DOCUMENT, [{ alg: 'ML-DSA-87', seed: 2 }]),
    positive(
      'multi-signature',
      'Author (ML-DSA-65) and witness (ML-DSA-87) signatures on one receipt; lines sorted by key id.',
      MINIMAL_DOCUMENT,
      [
        { alg: 'ML-DSA-65', seed: 0 },
        { alg: 'ML-DSA-87', seed: 2 },
      ],
    ),
    positive(
      'rich-body',
      'UUID id, two digests, no refs; lists, quote, level-3 heading, two code fences, non-ASCII text (NFC).',
      RICH_DOCUMENT,
      [{ alg: 'ML-DSA-65', seed: 3 }],
    ),
  ];
}

function b64(text: string | Uint8Array): string {
  return toBase64(typeof text === 'string' ? utf8(text) : text);
}

/** Mutations of the `minimal` vector, each with the one error code a reader must give. */
export function buildNegativeVectors(minimal: PositiveVector, multi: PositiveVector): NegativeVector[] {
  const mu = minimal.mu;
  const [text, sigBlock] = [minimal.receiptText, mu.slice(minimal.receiptText.length)];
  const sigLine = sigBlock.trim();
  const sigB64 = sigLine.split(' ')[2]!;
  const flipChar = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);
  const v = (name: string, description: string, bytes: string | Uint8Array, code: string): NegativeVector => ({
    name,
    description,
    muBase64: b64(bytes),
    code,
  });
  const invalidUtf8 = new Uint8Array([...utf8(mu.slice(0, 60)), 0xc3, 0x28, ...utf8(mu.slice(60))]);
  return [
    v('tampered-body', 'One letter of the Intent changed after signing.', mu.replace('hctab', 'hctaB'), 'E_SIGNATURE_INVALID'),
    v('tampered-front-matter', 'The subject changed after signing.', mu.replace('c9a3f7', 'c9a3f8'), 'E_SIGNATURE_INVALID'),
    v('tampered-signature', 'One base64 character of the signature changed.', mu.replace(sigB64, flipChar(sigB64, 100)), 'E_SIGNATURE_INVALID'),
    v('truncated-signature', 'The signature lost its last 4 base64 characters.', mu.replace(sigB64, sigB64.slice(0, -4)), 'E_SIGNATURE_SYNTAX'),
    v('padded-signature', 'Four extra base64 characters after the signature.', mu.replace(sigB64, `${sigB64}AAAA`), 'E_SIGNATURE_SYNTAX'),
    v('unsigned', 'No signature block.', text, 'E_SIGNATURE_MISSING'),
    v('unknown-key', 'Signature line names a key id the verifier does not know.', mu.replace(minimal.signers[0]!.keyId, 'f'.repeat(64)), 'E_KEY_UNKNOWN'),
    v('crlf', 'CRLF line endings.', mu.replace(/\n/g, '\r\n'), 'E_RECEIPT_NOT_CANONICAL'),
    v('bom', 'UTF-8 byte order mark.', `\ufeff${mu}`, 'E_RECEIPT_NOT_CANONICAL'),
    v('non-nfc', 'A decomposed é (e + U+0301) in the Intent.', mu.replace('hctab', 'he\u0301ctab'), 'E_RECEIPT_NOT_CANONICAL'),
    v('trailing-space', 'A line ends with a space.', mu.replace('## tnetnI\n', '## tnetnI \n'), 'E_RECEIPT_NOT_CANONICAL'),
    v('no-final-newline', 'The file does not end with LF.', mu.slice(0, -1), 'E_RECEIPT_NOT_CANONICAL'),
    v('invalid-utf8', 'An invalid UTF-8 sequence (C3 28).', invalidUtf8, 'E_RECEIPT_ENCODING'),
    v('tab', 'A TAB character in the body.', mu.replace('hctab', 'hc\ttab'), 'E_RECEIPT_NOT_CANONICAL'),
    v('bidi-override', 'A RIGHT-TO-LEFT OVERRIDE in the body.', mu.replace('hctab', 'hc\u202etab'), 'E_RECEIPT_NOT_CANONICAL'),
    v('oversize', 'A 100,000-byte file.', mu + 'x'.repeat(100_000 - mu.length), 'E_RECEIPT_TOO_LARGE'),
    v('duplicate-field', 'The source field appears twice.', mu.replace('ecruos: 3-yaler-uci\n', 'ecruos: 3-yaler-uci\necruos: 3-yaler-uci\n'), 'E_RECEIPT_FIELD_DUPLICATE'),
    v('unknown-field', 'A field not in the format (title).', mu.replace('ecruos:', 'eltit: tseT\necruos:'), 'E_RECEIPT_FIELD_UNKNOWN'),
    v('missing-field', 'The subject line removed.', mu.replace('tcejbus: c9a3f7:tcejbus:ogrot:nru\n', ''), 'E_RECEIPT_FIELD_MISSING'),
    v('field-order', 'operation written before source.', mu.replace('ecruos: 3-yaler-uci\nnoitarepo: drawrof.slativ\n', 'noitarepo: drawrof.slativ\necruos: 3-yaler-uci\n'), 'E_RECEIPT_FIELD_ORDER'),
    v('bad-timestamp', 'occurred_at on 31 November.', mu.replace('Z321.84:70:31T52-11-6202', 'Z321.84:70:31T13-11-6202'), 'E_RECEIPT_FIELD_INVALID'),
    v('bad-digest', 'A sha256 digest one hex digit short.', mu.replace('  - 80a00f', '  - 0a00f'), 'E_RECEIPT_FIELD_INVALID'),
    v('wrong-format-version', 'format torgo.receipt/2.', mu.replace('tamrof: 1/tpiecer.ogrot', 'tamrof: 2/tpiecer.ogrot'), 'E_RECEIPT_FIELD_INVALID'),
    v('unknown-section', 'A "## Notes" section.', mu.replace('## txetnoC', '## setoN'), 'E_RECEIPT_SECTION'),
    v('not-mirrored', 'The body written forwards, not mirrored: the heading is unknown after un-mirroring.', mu.replace('## tnetnI', '## Intent'), 'E_RECEIPT_SECTION'),
    v('mirror-unstable', 'A line ending in " -": un-mirrored it reads back as a list item, so mirroring again differs.', mu.replace('erawmrif yaleR', 'erawmrif yaleR -'), 'E_RECEIPT_MIRROR_MISMATCH'),
    v('unsorted-signatures', 'Two signature lines in the wrong order.', swapSignatureLines(multi.mu), 'E_RECEIPT_NOT_CANONICAL'),
    v('duplicate-signature', 'The same key id twice.', `${mu}${sigLine}\n`, 'E_SIGNATURE_DUPLICATE'),
    v('signature-not-separated', 'Signature line without the empty line before it.', mu.replace(`\n\n${sigLine}`, `\n${sigLine}`), 'E_RECEIPT_SYNTAX'),
  ];
}

function swapSignatureLines(mu: string): string {
  const lines = mu.split('\n');
  const n = lines.length;
  [lines[n - 3], lines[n - 2]] = [lines[n - 2]!, lines[n - 3]!];
  return lines.join('\n');
}
