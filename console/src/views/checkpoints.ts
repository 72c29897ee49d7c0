/**
 * Checkpoints: the latest signed tree head, the history recorded on the ledger, whether each
 * extends the one before (consistency proofs checked here with core), and an operator key the
 * auditor may trust for this session to check checkpoint signatures in the browser.
 */
import { ApiError } from '../api.js';
import { errorBox, h } from '../dom.js';
import {
  checkConsistency,
  checkpointHistory,
  latestCheckpoint,
  operatorKey,
  type ReadCheckpoint,
} from '../transparency.js';
import { toHex } from '../../../core/index.js';

function signatureCell(c: ReadCheckpoint): HTMLElement {
  const s = c.signature;
  if (s.status === 'verified') return h('span', { class: 'badge ok' }, `verified: ${s.signedBy.join(', ')}`);
  if (s.status === 'failed')
    return h('span', { class: 'badge bad', title: s.message }, 'signature does not verify');
  return h('span', { class: 'muted' }, `${c.signers.join(', ')} (not checked)`);
}

function keyForm(onChange: () => void): HTMLElement {
  const area = h('textarea', {
    rows: 4,
    cols: 70,
    placeholder: '-----BEGIN PUBLIC KEY-----',
    spellcheck: 'false',
  });
  area.value = operatorKey.get() ?? '';
  const message = h('span', { class: 'muted' });
  const save = h('button', { type: 'button' }, 'Trust this key');
  const clear = h('button', { type: 'button', class: 'secondary' }, 'Forget it');
  save.addEventListener('click', () => {
    try {
      operatorKey.set(area.value.trim() || undefined);
      onChange();
    } catch (e) {
      message.replaceChildren(errorBox(e));
    }
  });
  clear.addEventListener('click', () => {
    operatorKey.set(undefined);
    onChange();
  });
  return h(
    'details',
    { class: 'card', open: !operatorKey.get() },
    h(
      'summary',
      null,
      operatorKey.get()
        ? 'Trusted operator key (set for this session)'
        : 'Check signatures: trust a log operator key',
    ),
    h(
      'p',
      { class: 'muted' },
      "Paste the log operator's public key (PEM), obtained out of band. It is kept for this tab only.",
    ),
    area,
    h('div', { class: 'actions' }, save, clear, message),
  );
}

export async function checkpointsView(rerender: () => void): Promise<Node> {
  const view = h('section', { class: 'view' }, h('h1', null, 'Checkpoints'), keyForm(rerender));
  let latest: ReadCheckpoint;
  try {
    latest = await latestCheckpoint();
  } catch (e) {
    view.append(
      e instanceof ApiError && e.missingRoute
        ? h(
            'p',
            null,
            h('span', { class: 'badge info' }, 'not available'),
            ' This gateway does not serve checkpoints (GET /v1/checkpoint) yet.',
          )
        : errorBox(e),
    );
    return view;
  }
  view.append(
    h(
      'section',
      { class: 'card', id: 'latest-checkpoint' },
      h('h2', null, 'Latest checkpoint'),
      h(
        'dl',
        { class: 'kv' },
        h('dt', null, 'Log'),
        h('dd', null, latest.checkpoint.origin),
        h('dt', null, 'Size'),
        h('dd', null, latest.checkpoint.size.toLocaleString('en')),
        h('dt', null, 'Root hash'),
        h('dd', { class: 'mono wrap' }, toHex(latest.checkpoint.rootHash)),
        h('dt', null, 'Signatures'),
        h('dd', null, signatureCell(latest)),
      ),
      h(
        'details',
        null,
        h('summary', null, 'The signed note'),
        h('pre', { class: 'code' }, h('code', null, latest.note)),
      ),
    ),
  );
  let history: ReadCheckpoint[];
  try {
    history = await checkpointHistory();
  } catch (e) {
    view.append(
      h('h2', null, 'History'),
      e instanceof ApiError && e.missingRoute
        ? h(
            'p',
            { class: 'muted' },
            'This gateway does not serve the checkpoint history (GET /v1/checkpoints) yet.',
          )
        : errorBox(e),
    );
    return view;
  }
  const rows = await Promise.all(
    history.map(async (c, i) => {
      const older = history[i + 1];
      let consistency: HTMLElement;
      if (!older) consistency = h('span', { class: 'muted' }, 'first recorded');
      else {
        try {
          await checkConsistency(older.checkpoint, c.checkpoint);
          consistency = h('span', { class: 'badge ok' }, `extends size ${older.checkpoint.size}`);
        } catch (e) {
          consistency =
            e instanceof ApiError && e.missingRoute
              ? h('span', { class: 'muted' }, 'no consistency endpoint')
              : h('span', { class: 'badge bad', title: (e as Error).message }, 'NOT consistent');
        }
      }
      return h(
        'tr',
        null,
        h('td', { class: 'mono' }, c.recordedAt ?? ''),
        h('td', null, c.checkpoint.size.toLocaleString('en')),
        h('td', { class: 'mono' }, `${toHex(c.checkpoint.rootHash).slice(0, 16)}…`),
        h('td', null, signatureCell(c)),
        h('td', null, consistency),
        h('td', { class: 'mono wrap' }, c.txId ?? ''),
      );
    }),
  );
  view.append(
    h('h2', null, 'History recorded on the ledger'),
    h(
      'table',
      { class: 'grid', id: 'checkpoint-history' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...['Recorded (UTC)', 'Size', 'Root', 'Signatures', 'Consistency', 'Transaction'].map((t) =>
            h('th', null, t),
          ),
        ),
      ),
      h('tbody', null, ...rows),
    ),
  );
  return view;
}
