/**
 * The auditor console: a read-only view of the ledger over the gateway's API. Routes are URL
 * fragments (`#/receipt/ID`…), so they never reach a server log, and nothing in them is secret.
 */
import './style.css';
import { getJson, type Me, SIGNED_OUT } from './api.js';
import { errorBox, h } from './dom.js';
import { session } from './session.js';
import { checkpointsView } from './views/checkpoints.js';
import { keysView, keyView } from './views/keys.js';
import { receiptView } from './views/receipt.js';
import { searchView } from './views/search.js';
import { signInView } from './views/signin.js';
import { timelineView } from './views/timeline.js';

const app = document.getElementById('app')!;
const nav = document.getElementById('nav')!;
const who = document.getElementById('who')!;
let me: Me | undefined;
let renderCount = 0;

type Route = {
  pattern: RegExp;
  nav: string;
  view: (m: RegExpExecArray, p: URLSearchParams) => Promise<Node>;
};
const routes: Route[] = [
  { pattern: /^\/receipt\/([^/]+)$/, nav: 'search', view: (m) => receiptView(decodeURIComponent(m[1]!)) },
  { pattern: /^\/keys\/([0-9a-f]{64})$/, nav: 'keys', view: (m) => keyView(m[1]!) },
  { pattern: /^\/keys$/, nav: 'keys', view: () => keysView() },
  { pattern: /^\/timeline$/, nav: 'timeline', view: (_m, p) => timelineView(p) },
  { pattern: /^\/checkpoints$/, nav: 'checkpoints', view: () => checkpointsView(() => void render()) },
  { pattern: /^\/?$/, nav: 'search', view: (_m, p) => searchView(p) },
];

function showWho(): void {
  if (!me) {
    who.replaceChildren();
    nav.hidden = true;
    return;
  }
  const out = h('button', { type: 'button', class: 'link', id: 'sign-out' }, 'Sign out');
  out.addEventListener('click', () => signOut());
  who.replaceChildren(
    h('span', { title: `${me.mspId} ${me.identity}` }, `${me.name} (${me.roles.join(', ')})`),
    ' ',
    out,
  );
  nav.hidden = false;
}

function signOut(notice?: string): void {
  session.signOut();
  me = undefined;
  showWho();
  app.replaceChildren(signInView(signedIn, notice));
}

function signedIn(who: Me): void {
  me = who;
  showWho();
  void render();
}

async function render(): Promise<void> {
  const mine = ++renderCount;
  if (!session.token()) {
    signOut();
    return;
  }
  if (!me) {
    try {
      me = await getJson<Me>('/v1/me');
      showWho();
    } catch {
      return; // SIGNED_OUT has shown the sign-in form
    }
  }
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = hash.split('?', 2) as [string, string?];
  const route = routes.find((r) => r.pattern.test(path)) ?? routes[routes.length - 1]!;
  for (const a of nav.querySelectorAll<HTMLAnchorElement>('a[data-nav]'))
    a.classList.toggle('active', a.dataset['nav'] === route.nav);
  app.setAttribute('aria-busy', 'true');
  let node: Node;
  try {
    node = await route.view(route.pattern.exec(path)!, new URLSearchParams(query));
  } catch (e) {
    node = h('section', { class: 'view' }, errorBox(e));
  }
  if (mine !== renderCount || !me) return; // a newer navigation won
  app.replaceChildren(node);
  app.removeAttribute('aria-busy');
}

window.addEventListener(SIGNED_OUT, (e) => signOut(`Signed out: ${(e as CustomEvent<string>).detail}`));
window.addEventListener('hashchange', () => void render());
void render();
