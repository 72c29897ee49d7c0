/** The signer key registry: look a key up, see its record and its whole committed history. */
import { ApiError, getJson, getKey, type KeyHistory, type KeyRecord } from '../api.js';
import { errorBox, h, link } from '../dom.js';
import { session } from '../session.js';

const KEY_ID = /^[0-9a-f]{64}$/;

function lookupForm(): HTMLFormElement {
  const input = h('input', {
    name: 'keyId',
    placeholder: '64 hex characters',
    pattern: '[0-9a-f]{64}',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    size: 70,
  });
  const form = h(
    'form',
    { class: 'filters', method: 'post' },
    h('label', null, h('span', null, 'Key id'), input),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Show key')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const id = input.value.trim().toLowerCase();
    if (KEY_ID.test(id)) location.hash = `#/keys/${id}`;
  });
  return form;
}

function statusBadge(k: KeyRecord): HTMLElement {
  const kind = k.status === 'active' ? 'ok' : k.status === 'revoked' ? 'bad' : 'info';
  return h('span', { class: `badge ${kind}` }, k.status);
}

export async function keysView(): Promise<Node> {
  const seen = session.seenKeys();
  const view = h(
    'section',
    { class: 'view' },
    h('h1', null, 'Key registry'),
    h(
      'p',
      { class: 'muted' },
      'Signer keys are ML-DSA public keys registered on the ledger; a key id is the SHA-256 of the key.',
    ),
    lookupForm(),
  );
  if (seen.length === 0) {
    view.append(h('p', { class: 'muted' }, 'Keys that signed the receipts you open or search appear here.'));
    return view;
  }
  const records = await Promise.all(seen.map((id) => getKey(id).catch((e: unknown) => e)));
  view.append(
    h('h2', null, 'Keys met in this session'),
    h(
      'table',
      { class: 'grid', id: 'keys' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['Key id', 'Algorithm', 'Label', 'Owner', 'Status', 'Registered'].map((t) => h('th', null, t)),
        ),
      ),
      h(
        'tbody',
        null,
        ...seen.map((id, i) => {
          const k = records[i] as KeyRecord | Error;
          return k instanceof Error
            ? h('tr', null, h('td', { class: 'mono' }, id), h('td', { colspan: 5 }, errorBox(k)))
            : h(
                'tr',
                null,
                h('td', { class: 'mono' }, link(`/keys/${id}`, id)),
                h('td', null, k.alg),
                h('td', null, k.label),
                h('td', { class: 'mono wrap' }, `${k.owner.mspId} ${k.owner.id}`),
                h('td', null, statusBadge(k)),
                h('td', { class: 'mono' }, k.registeredAt),
              );
        }),
      ),
    ),
  );
  return view;
}

/** What changed from one committed version of a key record to the next. */
export function describeChange(before: KeyRecord | null, after: KeyRecord | null): string {
  if (!after) return 'deleted';
  if (!before)
    return after.predecessor ? `registered (successor of ${after.predecessor.slice(0, 12)}…)` : 'registered';
  if (before.status !== 'revoked' && after.status === 'revoked')
    return `revoked: ${after.revocationReason ?? 'no reason given'}`;
  if (before.status !== 'retired' && after.status === 'retired')
    return after.successor ? `retired, rotated to ${after.successor.slice(0, 12)}…` : 'retired';
  return 'updated';
}

export async function keyView(keyId: string): Promise<Node> {
  const view = h(
    'section',
    { class: 'view' },
    h('h1', null, 'Key ', h('span', { class: 'mono wrap' }, keyId)),
  );
  let record: KeyRecord;
  try {
    record = await getKey(keyId, true);
  } catch (e) {
    view.append(
      e instanceof ApiError && e.status === 404
        ? h('p', null, 'No key with this id is registered.')
        : errorBox(e),
    );
    return view;
  }
  const history = await getJson<KeyHistory>(`/v1/keys/${keyId}/history`);
  const rel = (label: string, id: string | undefined) =>
    id ? [h('dt', null, label), h('dd', { class: 'mono' }, link(`/keys/${id}`, id))] : [];
  view.append(
    h(
      'section',
      { class: 'card' },
      h(
        'dl',
        { class: 'kv' },
        h('dt', null, 'Status'),
        h('dd', null, statusBadge(record)),
        h('dt', null, 'Algorithm'),
        h('dd', null, record.alg),
        h('dt', null, 'Label'),
        h('dd', null, record.label || '—'),
        h('dt', null, 'Owner'),
        h('dd', { class: 'mono wrap' }, `${record.owner.mspId} ${record.owner.id}`),
        h('dt', null, 'Registered'),
        h('dd', { class: 'mono' }, `${record.registeredAt} (tx ${record.registeredTxId})`),
        ...(record.retiredAt ? [h('dt', null, 'Retired'), h('dd', { class: 'mono' }, record.retiredAt)] : []),
        ...(record.revokedAt
          ? [
              h('dt', null, 'Revoked'),
              h(
                'dd',
                null,
                h('span', { class: 'mono' }, record.revokedAt),
                ` — ${record.revocationReason ?? ''}`,
              ),
            ]
          : []),
        ...rel('Predecessor', record.predecessor),
        ...rel('Successor', record.successor),
      ),
      h(
        'details',
        null,
        h('summary', null, 'Public key (PEM)'),
        h('pre', { class: 'code' }, h('code', null, record.publicKey)),
      ),
    ),
    h('h2', null, 'History'),
    h(
      'p',
      { class: 'muted' },
      "Every committed version of the key's record, from the ledger's own history of the key.",
    ),
  );
  // The ledger gives history newest first (Fabric's GetHistoryForKey); a story reads oldest first.
  const rows = [...history.history]
    .reverse()
    .map((v, i, all) => ({
      v,
      change: describeChange(i > 0 ? (all[i - 1]!.value ?? null) : null, v.isDelete ? null : v.value),
    }))
    .map(({ v, change }) =>
      h(
        'tr',
        null,
        h('td', { class: 'mono' }, v.timestamp),
        h('td', null, change),
        h('td', null, v.value ? statusBadge(v.value) : ''),
        h('td', { class: 'mono wrap' }, v.txId),
      ),
    );
  view.append(
    h(
      'table',
      { class: 'grid', id: 'key-history' },
      h(
        'thead',
        null,
        h('tr', null, ...['Committed (UTC)', 'Change', 'Status', 'Transaction'].map((t) => h('th', null, t))),
      ),
      h('tbody', null, ...rows),
    ),
  );
  return view;
}
