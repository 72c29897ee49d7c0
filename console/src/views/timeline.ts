/** Receipts per source over time: a stacked bar chart in plain SVG. */
import { getJson, type ReceiptPage, type ReceiptResource } from '../api.js';
import { h, s } from '../dom.js';
import { type Binned, binPoints, stepLabel } from '../bins.js';
import { filterParams, hasFilter, type Query, readQuery, routeParams } from '../query.js';
import { filterForm } from './filters.js';

/** Most receipts read per series: the chart is an overview, the search is for detail. */
const MAX_PER_SERIES = 5000;
const COLORS = ['#1f6feb', '#e16f24', '#1a7f37', '#8250df', '#cf222e', '#0a7ea4', '#bf8700', '#6e7781'];

async function readAll(
  q: Query,
  onCount: (n: number) => void,
): Promise<{ rows: ReceiptResource[]; capped: boolean }> {
  const rows: ReceiptResource[] = [];
  let cursor: string | undefined;
  do {
    const page = await getJson<ReceiptPage>('/v1/receipts', {
      ...filterParams(q),
      order: 'asc',
      limit: 100,
      cursor,
    });
    rows.push(...page.receipts);
    onCount(rows.length);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && rows.length < MAX_PER_SERIES);
  return { rows, capped: cursor !== undefined };
}

function label(ms: number, step: number): string {
  const iso = new Date(ms).toISOString();
  return step >= 24 * 3600_000
    ? iso.slice(0, 10)
    : step >= 60_000
      ? iso.slice(5, 16).replace('T', ' ')
      : iso.slice(11, 19);
}

export function chart(b: Binned): SVGSVGElement {
  const W = 960;
  const H = 300;
  const pad = { l: 48, r: 12, t: 12, b: 48 };
  const iw = W - pad.l - pad.r;
  const ih = H - pad.t - pad.b;
  const n = b.counts.length;
  const bw = iw / Math.max(n, 1);
  // A round tick step (1, 2 or 5 × 10^k) and a top that is a whole number of steps.
  const raw = Math.max(1, b.max) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const tick = Math.max(1, ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag);
  const yMax = Math.ceil(Math.max(1, b.max) / tick) * tick;
  const y = (v: number) => pad.t + ih - (v / yMax) * ih;
  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart',
    role: 'img',
    'aria-label': 'receipts per source over time',
  });
  const ticks = Array.from({ length: Math.round(yMax / tick) + 1 }, (_, i) => i * tick);
  for (const t of ticks) {
    svg.append(
      s('line', { x1: pad.l, x2: W - pad.r, y1: y(t), y2: y(t), class: 'gridline' }),
      s('text', { x: pad.l - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, String(t)),
    );
  }
  const every = Math.max(1, Math.ceil(n / 8));
  b.counts.forEach((counts, i) => {
    let acc = 0;
    const x = pad.l + i * bw;
    // Few buckets: slim bars centred in their slot rather than slabs.
    const barW = Math.min(Math.max(bw - 2, 1), 36);
    counts.forEach((c, k) => {
      if (!c) return;
      const top = y(acc + c);
      svg.append(
        s(
          'rect',
          {
            x: x + (bw - barW) / 2,
            y: top,
            width: barW,
            height: y(acc) - top,
            fill: COLORS[k % COLORS.length]!,
          },
          s(
            'title',
            null,
            `${b.sources[k]}: ${c} receipt${c === 1 ? '' : 's'} from ${new Date(b.start + i * b.step).toISOString()}`,
          ),
        ),
      );
      acc += c;
    });
    if (i % every === 0) {
      svg.append(
        s(
          'text',
          { x: x + bw / 2, y: H - pad.b + 16, 'text-anchor': 'middle', class: 'tick' },
          label(b.start + i * b.step, b.step),
        ),
      );
    }
  });
  svg.append(
    s('line', { x1: pad.l, x2: W - pad.r, y1: pad.t + ih, y2: pad.t + ih, class: 'axis' }),
    s(
      'text',
      { x: pad.l + iw / 2, y: H - 8, 'text-anchor': 'middle', class: 'tick' },
      `committed at (UTC), one bar per ${stepLabel(b.step)}`,
    ),
  );
  return svg;
}

export async function timelineView(params: URLSearchParams): Promise<Node> {
  const q = readQuery(params);
  const view = h(
    'section',
    { class: 'view' },
    h('h1', null, 'Timeline'),
    h('p', { class: 'muted' }, 'Receipts per source over time. Several sources: separate them with commas.'),
    filterForm(
      q,
      (next) => {
        location.hash = `#/timeline?${routeParams(next)}`;
      },
      { paging: false },
    ),
  );
  if (!hasFilter(q)) return view;
  const sources = (q.source ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const queries: Query[] = sources.length ? sources.map((source) => ({ ...q, source })) : [q];
  const progress = h('p', { class: 'muted' }, 'reading…');
  view.append(progress);
  const counts = queries.map(() => 0);
  const results = await Promise.all(
    queries.map((one, i) =>
      readAll(one, (n) => {
        counts[i] = n;
        progress.textContent = `reading… ${counts.reduce((a, b) => a + b, 0)} receipts`;
      }),
    ),
  );
  const rows = results.flatMap((r) => r.rows);
  const binned = binPoints(
    rows.map((r) => ({ source: r.source, at: Date.parse(r.committedAt) })),
    48,
    { ...(q.from ? { from: Date.parse(q.from) } : {}), ...(q.to ? { to: Date.parse(q.to) } : {}) },
  );
  const totals = binned.sources.map((_, k) => binned.counts.reduce((a, c) => a + c[k]!, 0));
  progress.replaceChildren(
    `${rows.length.toLocaleString('en')} receipts`,
    results.some((r) => r.capped)
      ? ` (at most ${MAX_PER_SERIES.toLocaleString('en')} per series were read)`
      : '',
  );
  view.append(
    rows.length
      ? h('figure', { class: 'card', id: 'timeline' }, chart(binned))
      : h('p', { class: 'muted' }, 'No receipt matches.'),
    h(
      'ul',
      { class: 'legend' },
      ...binned.sources.map((src, k) =>
        h(
          'li',
          null,
          s(
            'svg',
            { class: 'swatch', viewBox: '0 0 10 10', 'aria-hidden': 'true' },
            s('rect', { width: 10, height: 10, fill: COLORS[k % COLORS.length]! }),
          ),
          h('a', { href: `#/?${routeParams({ ...q, source: src })}` }, src),
          ` ${totals[k]!.toLocaleString('en')}`,
        ),
      ),
    ),
  );
  return view;
}
