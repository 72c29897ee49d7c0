/** Sign in with an auditor token: checked with GET /v1/me, then kept in sessionStorage only. */
import { ApiError, getJson, type Me } from '../api.js';
import { errorBox, h } from '../dom.js';
import { session } from '../session.js';

export function signInView(onSignedIn: (me: Me) => void, notice?: string): Node {
  const token = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    size: 60,
  });
  const message = h('div', { 'aria-live': 'polite' }, notice ? h('div', { class: 'error' }, notice) : null);
  const form = h(
    'form',
    { class: 'signin card', method: 'post', id: 'signin' },
    h('h1', null, 'Sign in'),
    h(
      'p',
      { class: 'muted' },
      'Use an auditor token (`torgo token create --name NAME --role auditor`). It stays in this tab only and is sent to this gateway in a header, never in a URL.',
    ),
    h('label', null, h('span', null, 'Token'), token),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')),
    message,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const value = token.value.trim();
    if (!value) return;
    message.replaceChildren(h('span', { class: 'muted' }, 'checking…'));
    try {
      const me = await getJson<Me>('/v1/me', undefined, value);
      if (!me.roles.includes('auditor') && !me.roles.includes('admin')) {
        message.replaceChildren(
          h(
            'div',
            { class: 'error' },
            `This token (${me.name}) has the roles ${me.roles.join(', ')}: receipts can be read with an auditor or admin token.`,
          ),
        );
        return;
      }
      session.signIn(value);
      token.value = '';
      onSignedIn(me);
    } catch (err) {
      message.replaceChildren(
        err instanceof ApiError && err.status === 401
          ? h('div', { class: 'error' }, 'This token is not valid (unknown or revoked).')
          : errorBox(err),
      );
    }
  });
  return h('section', { class: 'view narrow' }, form);
}
