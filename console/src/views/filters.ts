/** The filter form shared by the receipt search and the timeline. */
import { h } from '../dom.js';
import { inputToUtc, PAGE_SIZES, type Query, utcToInput } from '../query.js';

export function filterForm(
  q: Query,
  onSubmit: (q: Query) => void,
  options: { paging?: boolean } = {},
): HTMLFormElement {
  const field = (name: string, label: string, value: string | undefined, placeholder: string) =>
    h(
      'label',
      null,
      h('span', null, label),
      h('input', { name, value: value ?? '', placeholder, autocomplete: 'off', spellcheck: 'false' }),
    );
  const time = (name: string, label: string, value: string | undefined) =>
    h(
      'label',
      null,
      h('span', null, label),
      h('input', { name, type: 'datetime-local', step: 1, value: utcToInput(value) }),
    );
  const order = h(
    'select',
    { name: 'order' },
    h('option', { value: 'asc', selected: q.order === 'asc' }, 'oldest first'),
    h('option', { value: 'desc', selected: q.order === 'desc' }, 'newest first'),
  );
  const limit = h(
    'select',
    { name: 'limit' },
    ...PAGE_SIZES.map((n) => h('option', { value: n, selected: q.limit === n }, `${n} per page`)),
  );
  const form = h(
    'form',
    { class: 'filters', method: 'post', autocomplete: 'off' },
    field('source', 'Source', q.source, 'icu-relay-3'),
    field('subject', 'Subject', q.subject, 'urn:torgo:subject:…'),
    field('operation', 'Operation', q.operation, 'vitals.forward'),
    time('from', 'Committed from (UTC)', q.from),
    time('to', 'until, excluded (UTC)', q.to),
    options.paging === false ? null : h('label', null, h('span', null, 'Order'), order),
    options.paging === false ? null : h('label', null, h('span', null, 'Page'), limit),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const text = (k: string) => String(data.get(k) ?? '').trim() || undefined;
    const next: Query = {
      order: text('order') === 'desc' ? 'desc' : 'asc',
      limit: Number(text('limit') ?? q.limit),
    };
    for (const k of ['source', 'subject', 'operation'] as const) {
      const v = text(k);
      if (v) next[k] = v;
    }
    const from = inputToUtc(text('from') ?? '');
    const to = inputToUtc(text('to') ?? '');
    if (from) next.from = from;
    if (to) next.to = to;
    onSubmit(next);
  });
  return form;
}
