/**
 * Building the page from data without ever parsing data as HTML: every text goes through
 * `textContent` or an attribute set with `setAttribute`, never `innerHTML`. Receipt text is
 * attacker-controlled (any appender writes it); this is what keeps it inert.
 */
export type Child = Node | string | number | null | undefined | false;
type Handler = (e: Event) => void;
export type Attrs = Record<string, string | number | boolean | Handler | null | undefined>;

function apply(e: Element, attrs: Attrs | null | undefined): void {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (typeof v === 'function') e.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') e.setAttribute('class', String(v));
    else if (v === true) e.setAttribute(k, '');
    else e.setAttribute(k, String(v));
  }
}

function append(e: Element, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === 'number' ? String(c) : c);
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  apply(e, attrs);
  append(e, children);
  return e;
}

const SVG = 'http://www.w3.org/2000/svg';
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(SVG, tag);
  apply(e, attrs);
  append(e, children);
  return e;
}

/** A hash link inside the console (routes are fragments, so nothing is ever sent to the server). */
export function link(route: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href: `#${route}` }, ...children);
}

export function shortId(id: string, n = 12): string {
  return id.length > n + 1 ? `${id.slice(0, n)}…` : id;
}

export function errorBox(e: unknown): HTMLElement {
  const code = (e as { code?: string }).code;
  return h(
    'div',
    { class: 'error', role: 'alert' },
    code ? h('code', null, code) : null,
    code ? ' ' : null,
    (e as Error).message ?? String(e),
  );
}

/** Saves bytes as a file through an object URL (no navigation, no server round trip). */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
