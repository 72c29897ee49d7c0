/** Receipts by source, subject, operation and time window, a page at a time (stable cursors). */
import { ApiError, getJson, type ReceiptPage, request } from '../api.js';
import { download, errorBox, h, link, shortId } from '../dom.js';
import { filterParams, hasFilter, type Query, readQuery, routeParams, shortTime } from '../query.js';
import { session } from '../session.js';
import { filterForm } from './filters.js';

/** Cursors of the pages already seen, per query, so "previous" works without the server. */
const cursors = new Map<string, (string | undefined)[]>();

export async function searchView(params: URLSearchParams): Promise<Node> {
  const q = readQuery(params);
  const page = Math.max(1, Number(params.get('page')) || 1);
  const cursor = params.get('cursor') ?? undefined;
  const key = routeParams(q);
  const seen = cursors.get(key) ?? [undefined];
  cursors.set(key, seen);
  seen[page - 1] = cursor;

  const form = filterForm(q, (next) => {
    location.hash = `#/?${routeParams(next)}`;
  });
  const view = h('section', { class: 'view' }, h('h1', null, 'Receipts'), form);
  if (!hasFilter(q)) {
    view.append(
      h(
        'p',
        { class: 'muted' },
        'Give a source, a subject or an operation (and, if you like, a time window) and search.',
      ),
    );
    return view;
  }

  const result = await getJson<ReceiptPage>('/v1/receipts', {
    ...filterParams(q),
    order: q.order,
    limit: q.limit,
    cursor,
  });
  session.addSeenKeys(result.receipts.flatMap((r) => r.signerKeyIds));
  const status = h('span', { class: 'muted', 'aria-live': 'polite' });
  const exportButton = h('button', { type: 'button', id: 'export-bundle' }, 'Export bundle');
  const csvButton = h('button', { type: 'button', class: 'secondary' }, 'Export CSV');
  exportButton.addEventListener('click', () => void exportQuery(q, 'bundle', status, exportButton));
  csvButton.addEventListener('click', () => void exportQuery(q, 'csv', status, csvButton));

  const rows = result.receipts.map((r) =>
    h(
      'tr',
      null,
      h('td', { class: 'mono' }, shortTime(r.committedAt)),
      h('td', { class: 'mono' }, link(`/receipt/${encodeURIComponent(r.id)}`, r.id)),
      h('td', null, r.source),
      h('td', null, r.operation),
      h('td', { class: 'mono wrap' }, r.subject),
      h('td', { class: 'mono' }, r.signerKeyIds.map((k) => shortId(k, 8)).join(', ')),
      h(
        'td',
        null,
        r.revokedSigners.length
          ? h(
              'span',
              {
                class: 'badge warn',
                title: r.revokedSigners.map((s) => `${s.keyId}: ${s.reason}`).join('\n'),
              },
              'signer revoked later',
            )
          : null,
      ),
    ),
  );
  const pager = h(
    'div',
    { class: 'pager' },
    page > 1
      ? link(`/?${routeParams(q, { page: page - 1, cursor: seen[page - 2] })}`, '← Previous')
      : h('span', { class: 'muted' }, '← Previous'),
    h('span', null, `Page ${page}`),
    result.nextCursor
      ? link(`/?${routeParams(q, { page: page + 1, cursor: result.nextCursor })}`, 'Next →')
      : h('span', { class: 'muted' }, 'Next →'),
  );
  view.append(
    h(
      'div',
      { class: 'toolbar' },
      h(
        'span',
        null,
        `${result.receipts.length} receipt${result.receipts.length === 1 ? '' : 's'} on this page`,
      ),
      h('span', { class: 'spacer' }),
      link(`/timeline?${routeParams(q)}`, 'Timeline of this query'),
      csvButton,
      exportButton,
    ),
    status,
    result.receipts.length
      ? h(
          'table',
          { class: 'grid', id: 'results' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ...['Committed (UTC)', 'Receipt id', 'Source', 'Operation', 'Subject', 'Signers', ''].map((t) =>
                h('th', null, t),
              ),
            ),
          ),
          h('tbody', null, ...rows),
        )
      : h('p', { class: 'muted' }, 'No receipt matches.'),
    pager,
  );
  return view;
}

/** Streams the export to a Blob (the token goes in a header, so a plain link cannot do it). */
async function exportQuery(
  q: Query,
  kind: 'bundle' | 'csv',
  status: HTMLElement,
  button: HTMLButtonElement,
): Promise<void> {
  button.disabled = true;
  status.textContent = 'exporting…';
  try {
    const res =
      kind === 'bundle'
        ? await request('/v1/export', filterParams(q), {
            accept: 'application/x-ndjson, application/json;q=0.5',
          })
        : await request('/v1/receipts', { ...filterParams(q), order: q.order }, { accept: 'text/csv' });
    const parts: BlobPart[] = [];
    let bytes = 0;
    const reader = res.body?.getReader();
    if (reader) {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value as Uint8Array<ArrayBuffer>);
        bytes += value.length;
        status.textContent = `exporting… ${bytes.toLocaleString('en')} bytes`;
      }
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const name = kind === 'bundle' ? `torgo-bundle-${stamp}.jsonl` : `torgo-receipts-${stamp}.csv`;
    download(new Blob(parts, { type: kind === 'bundle' ? 'application/x-ndjson' : 'text/csv' }), name);
    status.textContent = `saved ${name} (${bytes.toLocaleString('en')} bytes)${kind === 'bundle' ? ' — verify it offline with `torgo verify` or the verifier page' : ''}`;
  } catch (e) {
    status.replaceChildren(
      e instanceof ApiError && e.missingRoute
        ? h('span', { class: 'error' }, 'This gateway does not serve bundle exports (GET /v1/export) yet.')
        : errorBox(e),
    );
  } finally {
    button.disabled = false;
  }
}
