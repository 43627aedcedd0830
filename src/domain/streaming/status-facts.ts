import type { StatusView } from '../statuses/views.ts';
import type { StatusFacts } from './viewer-state.ts';

/**
 * What the streaming server's per-viewer filter needs to know of a status, as the domain knows it.
 * The publisher sends these beside the rendered entity on the public and hashtag channels, so the
 * filter never reads facts back out of the REST JSON (whose shape is the clients', not ours).
 */
export interface StreamedStatusFacts {
  accountId: string;
  /** The author's domain, lowercase; null for a local author. */
  accountDomain: string | null;
  visibility: string;
  /** The mentioned accounts, in the order mentioned. */
  mentionedAccountIds: readonly string[];
  language: string | null;
  /** The boosted status and its author, when it is a boost. */
  reblogOfId: string | null;
  reblogAccountId: string | null;
}

export function streamedStatusFacts(view: StatusView): StreamedStatusFacts {
  const author = view.account.account;
  return {
    accountId: author.id,
    accountDomain: author.domain === null ? null : author.domain.toLowerCase(),
    visibility: view.status.visibility,
    mentionedAccountIds: view.mentions.map((a) => a.id),
    language: view.status.language,
    reblogOfId: view.status.reblogOfId,
    reblogAccountId: view.reblog?.account.account.id ?? null,
  };
}

/**
 * The facts as they travel on the pub/sub message, under `status_facts` beside Mastodon's `event`
 * and `payload` (snake_case, as the rest of the message): Mastodon's streaming server ignores the
 * field, and Woolly's accepts messages without it (docs/streaming.md).
 */
export interface StatusFactsWire {
  account_id: string;
  account_domain: string | null;
  visibility: string;
  mentions: string[];
  language: string | null;
  reblog_of_id: string | null;
  reblog_account_id: string | null;
}

export function statusFactsToWire(f: StreamedStatusFacts): StatusFactsWire {
  return {
    account_id: f.accountId,
    account_domain: f.accountDomain,
    visibility: f.visibility,
    mentions: [...f.mentionedAccountIds],
    language: f.language,
    reblog_of_id: f.reblogOfId,
    reblog_account_id: f.reblogAccountId,
  };
}

/** The facts of a message's `status_facts`; null when absent or malformed (not ours, or garbled). */
export function statusFactsFromWire(value: unknown): StreamedStatusFacts | null {
  if (typeof value !== 'object' || value === null) return null;
  const w = value as Record<string, unknown>;
  const id = (v: unknown) => typeof v === 'string' && v !== '';
  const optional = (v: unknown) => v === null || typeof v === 'string';
  if (
    !id(w.account_id) ||
    !optional(w.account_domain) ||
    typeof w.visibility !== 'string' ||
    !Array.isArray(w.mentions) ||
    !w.mentions.every(id) ||
    !optional(w.language) ||
    !optional(w.reblog_of_id) ||
    !optional(w.reblog_account_id)
  )
    return null;
  return {
    accountId: w.account_id as string,
    accountDomain: w.account_domain === null ? null : (w.account_domain as string).toLowerCase(),
    visibility: w.visibility,
    mentionedAccountIds: w.mentions as string[],
    language: w.language as string | null,
    reblogOfId: w.reblog_of_id as string | null,
    reblogAccountId: w.reblog_account_id as string | null,
  };
}

/**
 * What the filter (statusReachesViewer) reads: blocks and mutes apply to the author, every
 * mentioned account and the author of what it boosts (as the home feed's rules).
 */
export function filterFacts(f: StreamedStatusFacts): StatusFacts {
  const accountIds = [f.accountId, ...f.mentionedAccountIds];
  if (f.reblogAccountId !== null) accountIds.push(f.reblogAccountId);
  return { authorId: f.accountId, accountIds, domain: f.accountDomain, language: f.language };
}
