import type { FastifyReply, FastifyRequest } from 'fastify';
import { isId } from '../db/ids.ts';
import type { Page } from '../db/page.ts';
import { ApiError } from './errors.ts';

export { type Page, type PagePlan, paginate, planPage } from '../db/page.ts';

// Page (src/domain/timelines/page.ts): max_id exclusive upper, since_id exclusive lower newest
// first, min_id exclusive lower returning the page just after the cursor (mastodon.md §11.2).

export interface PageOptions {
  /** Mastodon: 20 for statuses, 40 for accounts and notifications. */
  defaultLimit?: number;
  /** Mastodon: twice the default unless an endpoint says otherwise. */
  maxLimit?: number;
}

/** Mastodon's text for a negative limit (Api::Pagination). */
export const INVALID_LIMIT = 'Pagination values for `offset` and `limit` must be positive';

const CURSORS = [
  ['max_id', 'maxId'],
  ['since_id', 'sinceId'],
  ['min_id', 'minId'],
] as const;

/**
 * Reads `max_id`, `since_id`, `min_id` and `limit` from a parsed query. An empty cursor is absent
 * (Rails' `present?`); a cursor that is not an id is a 400 naming it, where Mastodon would quietly
 * cast it to 0 and answer an empty page. `limit` is clamped into 1…maxLimit; a negative or
 * non-numeric limit is a 400 with Mastodon's message.
 */
export function parsePage(query: unknown, options: PageOptions = {}): Page {
  const defaultLimit = options.defaultLimit ?? 20;
  const maxLimit = options.maxLimit ?? defaultLimit * 2;
  const params = (query ?? {}) as Record<string, unknown>;
  const page: Page = { limit: defaultLimit };
  for (const [param, key] of CURSORS) {
    const value = params[param];
    if (value === undefined || value === '') continue;
    if (typeof value !== 'string' || !isId(value)) throw new ApiError(400, `${param} must be a numeric id`);
    page[key] = BigInt(value).toString(); // drops leading zeros, so comparisons and links are canonical
  }
  const limit = params.limit;
  if (limit !== undefined && limit !== '') {
    if (typeof limit !== 'string' || !/^\s*\d+\s*$/.test(limit)) throw new ApiError(400, INVALID_LIMIT);
    page.limit = Math.min(Math.max(Number(limit.trim()), 1), maxLimit);
  }
  return page;
}

export interface LinkOptions<T> {
  /** The page as returned, newest first. */
  items: readonly T[];
  /** The cursor of an item (its id, or the hidden row id some lists page by). */
  idOf: (item: T) => string;
  /**
   * Whether to offer `rel="next"`. Timelines always do on a non-empty page; account lists only when
   * the page was full (Mastodon's `records_continue?`). Default true.
   */
  next?: boolean;
  /** Path parameters such as the tag of `/timelines/tag/:hashtag` are already in the URL; default true. */
  prev?: boolean;
}

/**
 * Sets `Link: <…?max_id=X>; rel="next", <…?min_id=Y>; rel="prev"` as Mastodon does: absolute URLs
 * on the request's own scheme and host (trusted proxies' X-Forwarded-* included), keeping the other
 * query parameters. Nothing is set for an empty page.
 */
export function setLinkHeader<T>(
  reply: FastifyReply,
  request: FastifyRequest,
  options: LinkOptions<T>,
): void {
  const { items, idOf } = options;
  const first = items[0];
  const last = items[items.length - 1];
  if (first === undefined || last === undefined) return;
  const links: string[] = [];
  if (options.next ?? true) links.push(`<${pageUrl(request, 'max_id', idOf(last))}>; rel="next"`);
  if (options.prev ?? true) links.push(`<${pageUrl(request, 'min_id', idOf(first))}>; rel="prev"`);
  if (links.length > 0) reply.header('link', links.join(', '));
}

/** The request's URL with its cursors replaced by one. */
export function pageUrl(request: FastifyRequest, cursor: 'max_id' | 'min_id', id: string): string {
  const url = new URL(request.url, `${request.protocol}://${request.host}`);
  const search = new URLSearchParams(url.search);
  for (const [param] of CURSORS) search.delete(param);
  search.append(cursor, id);
  // URLSearchParams encodes `[` `]`; Rails reads either form, and the plain one is what Mastodon emits.
  url.search = search.toString().replaceAll('%5B', '[').replaceAll('%5D', ']');
  return url.toString();
}
