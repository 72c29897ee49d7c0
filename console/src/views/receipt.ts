/**
 * One receipt: its document read the right way round (un-mirrored) with the body rendered as
 * Markdown, the front matter, the ledger record, each signer and its key status at commit time
 * (signatures checked here, in the browser, with core), and its inclusion proof.
 */
import {
  importPublicKey,
  parseReceipt,
  type PublicKey,
  type Receipt,
  receiptDigest,
  timeNanos,
  utf8,
  verifyReceiptSignatures,
} from '../../../core/index.js';
import { ApiError, getJson, getKey, type KeyRecord, type ReceiptResource } from '../api.js';
import { download, errorBox, h, link } from '../dom.js';
import { parseMarkdown } from '../markdown.js';
import { renderBlocks } from '../render.js';
import { session } from '../session.js';
import { checkInclusion, latestCheckpoint } from '../transparency.js';

/** Why a key was not valid at `at`, or undefined when it was (the contract's and the verifier's rule). */
export function keyInvalidAt(k: KeyRecord, at: string): string | undefined {
  const t = timeNanos(at);
  if (t < timeNanos(k.registeredAt)) return `registered only at ${k.registeredAt}`;
  if (k.revokedAt && timeNanos(k.revokedAt) <= t) return `revoked at ${k.revokedAt}, before the commit`;
  if (k.retiredAt && timeNanos(k.retiredAt) <= t) return `retired at ${k.retiredAt}, before the commit`;
  return undefined;
}

function kv(rows: [string, Node | string | null | undefined][]): HTMLElement {
  return h(
    'dl',
    { class: 'kv' },
    ...rows.flatMap(([k, v]) => (v === null || v === undefined ? [] : [h('dt', null, k), h('dd', null, v)])),
  );
}

function badge(kind: 'ok' | 'warn' | 'bad' | 'info', text: string, title?: string): HTMLElement {
  return h('span', { class: `badge ${kind}`, title }, text);
}

function documentCard(receipt: Receipt): HTMLElement {
  const source = receipt.sourceText.split('\n');
  const end = source.indexOf('---', 1);
  const frontMatter = source.slice(0, end + 1).join('\n');
  const body = h('div', { class: 'markdown', id: 'receipt-body' });
  for (const section of receipt.document.sections) {
    body.append(h('h2', null, section.name.replace('_', ' ')), ...renderBlocks(parseMarkdown(section.lines)));
  }
  return h(
    'section',
    { class: 'card' },
    h('h2', null, 'Receipt, read the right way round'),
    h(
      'p',
      { class: 'muted' },
      'Un-mirrored from the signed .mu text; mirroring it again gives back the signed bytes exactly.',
    ),
    h('h3', null, 'Front matter'),
    h('pre', { class: 'code', id: 'front-matter' }, h('code', null, frontMatter)),
    body,
  );
}

async function signersCard(r: ReceiptResource, receipt: Receipt): Promise<HTMLElement> {
  const records = await Promise.all(
    receipt.signatures.map((s) =>
      getKey(s.keyId).then(
        (k) => ({ keyId: s.keyId, record: k as KeyRecord | undefined, error: undefined as unknown }),
        (e: unknown) => ({ keyId: s.keyId, record: undefined, error: e }),
      ),
    ),
  );
  const keys = new Map<string, PublicKey>();
  for (const x of records) if (x.record) keys.set(x.keyId, importPublicKey(x.record.publicKey));
  let verdict: HTMLElement;
  try {
    const verified = verifyReceiptSignatures(receipt, (id) => keys.get(id));
    verdict = badge(
      'ok',
      `${verified.length} of ${verified.length} signature${verified.length === 1 ? '' : 's'} verified in this browser`,
    );
  } catch (e) {
    verdict = badge('bad', `${(e as { code?: string }).code ?? 'error'}: ${(e as Error).message}`);
  }
  const rows = records.map(({ keyId, record, error }) => {
    const atCommit = record ? keyInvalidAt(record, r.committedAt) : undefined;
    const later = r.revokedSigners.find((s) => s.keyId === keyId);
    return h(
      'tr',
      null,
      h('td', { class: 'mono' }, link(`/keys/${keyId}`, keyId)),
      h('td', null, record?.alg ?? ''),
      h('td', null, record?.label ?? ''),
      h('td', { class: 'mono wrap' }, record ? `${record.owner.mspId} ${record.owner.id}` : ''),
      h(
        'td',
        null,
        record
          ? badge(
              record.status === 'active' ? 'ok' : record.status === 'revoked' ? 'bad' : 'info',
              record.status,
            )
          : errorBox(error),
      ),
      h(
        'td',
        null,
        record
          ? atCommit
            ? badge('bad', `not valid: ${atCommit}`)
            : later
              ? badge('warn', `valid; revoked later at ${later.revokedAt} (${later.reason})`)
              : badge('ok', 'valid')
          : '',
      ),
    );
  });
  return h(
    'section',
    { class: 'card', id: 'signers' },
    h('h2', null, 'Signers'),
    h('p', null, verdict),
    h(
      'table',
      { class: 'grid' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['Key id', 'Algorithm', 'Label', 'Owner', 'Status now', 'At commit'].map((t) =>
            h('th', null, t),
          ),
        ),
      ),
      h('tbody', null, ...rows),
    ),
  );
}

function ledgerCard(r: ReceiptResource, receipt: Receipt): HTMLElement {
  const digestOk = receiptDigest(utf8(r.mu)) === r.hash;
  return h(
    'section',
    { class: 'card', id: 'ledger' },
    h('h2', null, 'Ledger record'),
    kv([
      ['Committed at', h('span', { class: 'mono' }, r.committedAt)],
      ['Occurred at (claimed by the source)', h('span', { class: 'mono' }, r.occurredAt)],
      ['Transaction', h('span', { class: 'mono' }, r.txId)],
      ['Block', r.block === undefined ? 'not given' : String(r.block)],
      [
        'Digest',
        h(
          'span',
          null,
          h('span', { class: 'mono wrap' }, r.hash),
          ' ',
          digestOk ? badge('ok', 'matches the .mu text') : badge('bad', 'does not match the .mu text'),
        ),
      ],
      ['Submitter', h('span', { class: 'mono wrap' }, `${r.submitter.mspId} ${r.submitter.id}`)],
      ['Source / operation', `${r.source} / ${r.operation}`],
      ['Subject', h('span', { class: 'mono wrap' }, r.subject)],
      [
        'Payload digests',
        h('span', { class: 'mono wrap' }, receipt.document.fields.payloadDigests.join('\n')),
      ],
      [
        'Refers to',
        receipt.document.fields.refs?.length
          ? h(
              'span',
              null,
              ...receipt.document.fields.refs.flatMap((id) => [link(`/receipt/${id}`, id), ' ']),
            )
          : null,
      ],
    ]),
  );
}

async function inclusionCard(r: ReceiptResource): Promise<HTMLElement> {
  const card = h(
    'section',
    { class: 'card', id: 'inclusion' },
    h('h2', null, 'Inclusion in the transparency log'),
  );
  try {
    const latest = await latestCheckpoint();
    const inc = await checkInclusion(r, latest);
    const sig = latest.signature;
    card.append(
      h(
        'p',
        null,
        badge('ok', 'included'),
        ` leaf ${inc.leafIndex} of ${inc.treeSize}: the proof leads to the latest checkpoint's root.`,
      ),
      kv([
        ['Log', latest.checkpoint.origin],
        ['Checkpoint', h('span', { class: 'mono wrap' }, `size ${inc.treeSize}, root ${inc.rootHex}`)],
        [
          'Checkpoint signature',
          sig.status === 'verified'
            ? badge('ok', `verified: ${sig.signedBy.join(', ')}`)
            : sig.status === 'failed'
              ? badge('bad', sig.message)
              : h(
                  'span',
                  null,
                  `signed by ${latest.signers.join(', ')} — not checked: `,
                  link('/checkpoints', 'trust an operator key'),
                  ' to check it here',
                ),
        ],
      ]),
    );
  } catch (e) {
    if (e instanceof ApiError && e.missingRoute) {
      card.append(
        h(
          'p',
          null,
          badge('info', 'not available'),
          ' This gateway does not serve checkpoints and inclusion proofs yet.',
        ),
      );
    } else if (e instanceof ApiError && e.status < 500) {
      // Typically a receipt newer than the latest checkpoint: not a failed proof, a proof not yet possible.
      card.append(h('p', null, badge('warn', 'not proven yet'), ` ${e.code}: ${e.message}`));
    } else {
      card.append(h('p', null, badge('bad', 'proof failed')), errorBox(e));
    }
  }
  return card;
}

export async function receiptView(id: string): Promise<Node> {
  const r = await getJson<ReceiptResource>(`/v1/receipts/${encodeURIComponent(id)}`);
  session.addSeenKeys(r.signerKeyIds);
  const view = h('section', { class: 'view' });
  let receipt: Receipt;
  try {
    receipt = parseReceipt(r.mu);
  } catch (e) {
    view.append(
      h('h1', null, `Receipt ${id}`),
      h('p', null, badge('bad', 'the stored receipt does not parse')),
      errorBox(e),
    );
    return view;
  }
  const save = h('button', { type: 'button', class: 'secondary' }, 'Download .mu');
  save.addEventListener('click', () => download(new Blob([r.mu], { type: 'text/markdown' }), `${r.id}.mu`));
  const [signers, inclusion] = await Promise.all([signersCard(r, receipt), inclusionCard(r)]);
  view.append(
    h(
      'div',
      { class: 'toolbar' },
      h('h1', null, 'Receipt ', h('span', { class: 'mono' }, r.id)),
      h('span', { class: 'spacer' }),
      link(`/?source=${encodeURIComponent(r.source)}`, `All receipts from ${r.source}`),
      save,
    ),
    h('div', { class: 'columns' }, documentCard(receipt), h('div', null, ledgerCard(r, receipt), inclusion)),
    signers,
    h(
      'details',
      { class: 'card' },
      h('summary', null, 'The .mu receipt as signed (mirrored text and signature lines)'),
      h('pre', { class: 'code' }, h('code', null, r.mu)),
    ),
  );
  return view;
}
