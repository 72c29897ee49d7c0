/**
 * The signed-in state. The auditor token lives in sessionStorage only: it dies with the tab, is
 * never put in a URL (routes are fragments without it) and never written to the console log.
 */
const TOKEN = 'torgo.console.token';
const SEEN_KEYS = 'torgo.console.seenKeys';

export const session = {
  token(): string | undefined {
    return sessionStorage.getItem(TOKEN) ?? undefined;
  },
  signIn(token: string): void {
    sessionStorage.setItem(TOKEN, token);
  },
  signOut(): void {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(SEEN_KEYS);
  },
  /** Key ids met in receipts this session: the registry has no list endpoint to browse. */
  seenKeys(): string[] {
    try {
      const v = JSON.parse(sessionStorage.getItem(SEEN_KEYS) ?? '[]') as unknown;
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
    } catch {
      return [];
    }
  },
  addSeenKeys(ids: readonly string[]): void {
    const all = new Set(session.seenKeys());
    for (const id of ids) all.add(id);
    sessionStorage.setItem(SEEN_KEYS, JSON.stringify([...all].slice(-500)));
  },
};
