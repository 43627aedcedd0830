import type { StatusFacts } from '../domain/streaming/viewer-state.ts';

/**
 * The filter's facts read from a Status entity: only for messages published without Woolly's
 * `status_facts` (by Mastodon's own web or worker processes sharing the Redis), so that those are
 * filtered as strictly as before. Woolly's publisher always sends the facts.
 * Null when the payload is not a status (it is then dropped).
 */
export function statusFacts(payload: unknown): StatusFacts | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const status = payload as Record<string, unknown>;
  const account = status.account as Record<string, unknown> | null | undefined;
  if (typeof account !== 'object' || account === null || typeof account.id !== 'string') return null;
  const acct = typeof account.acct === 'string' ? account.acct : '';
  const at = acct.indexOf('@');
  const accountIds = [account.id];
  if (Array.isArray(status.mentions)) {
    for (const mention of status.mentions) {
      const id = (mention as Record<string, unknown> | null)?.id;
      if (typeof id === 'string') accountIds.push(id);
    }
  }
  return {
    authorId: account.id,
    accountIds,
    domain: at === -1 ? null : acct.slice(at + 1).toLowerCase(),
    language: typeof status.language === 'string' ? status.language : null,
  };
}
