import { newId } from '../../db/ids.ts';
import { userPreferences } from '../accounts/profile.ts';
import { assertActionAllowed, recordAction } from '../action-limits.ts';
import type { Context } from '../context.ts';
import { forbidden, notFound } from '../errors.ts';
import { localReblogUri } from '../uris.ts';
import { Validator } from '../validation.ts';
import { canReblog, canViewStatus, isStatusVisibility } from '../visibility/visibility.ts';
import type { Author } from './compose.ts';
import { deleteStatusRow } from './delete.ts';
import { afterStore, storeStatus } from './store.ts';
import { findReblog, findStatus, properStatus, type StatusRecord, visibleStatus } from './views.ts';

/**
 * Boosts a status (Mastodon's ReblogService): the reblog is a status row of its own with the
 * chosen visibility (public, unlisted or private; default the user's, never more open than
 * public), stored and announced as every status is (store.ts). Boosting twice returns the
 * existing boost.
 */
export async function reblog(
  ctx: Context,
  author: Author,
  id: string,
  visibility: string | null,
): Promise<StatusRecord> {
  const original = await visibleStatus(ctx, author.account.id, id, { proper: true });
  if (!(await canReblog(ctx, author.account.id, original))) throw forbidden();
  const existing = await findReblog(ctx, author.account.id, original.id);
  if (existing) return existing;
  const chosen = reblogVisibility(author, original, visibility);
  await assertActionAllowed(ctx, author.account.id, 'statuses');
  const now = new Date();
  const reblogId = newId(now);
  const row = await storeStatus(ctx, {
    id: reblogId,
    accountId: author.account.id,
    uri: localReblogUri(ctx.config, author.account.username, reblogId),
    url: null,
    local: true,
    text: '',
    content: '',
    spoilerText: '',
    visibility: chosen,
    sensitive: false,
    language: null,
    inReplyToId: null,
    inReplyToAccountId: null,
    conversationId: null,
    reblogOfId: original.id,
    applicationId: null,
    mentionedAccountIds: [],
    tags: [],
    poll: null,
    createdAt: now,
  });
  await recordAction(ctx, author.account.id, 'statuses');
  await afterStore(ctx, row, { mentionedAccountIds: [], reblogged: original });
  return row;
}

/**
 * Mastodon: boosting a private status (one's own) keeps it private; otherwise the requested
 * visibility, else the user's default. A boost cannot be direct.
 */
function reblogVisibility(author: Author, original: StatusRecord, requested: string | null): string {
  if (original.visibility === 'private' || original.visibility === 'direct') return original.visibility;
  if (requested !== null && requested !== '') {
    const v = new Validator();
    if (!isStatusVisibility(requested)) v.add('visibility', 'Visibility', 'ERR_INCLUSION');
    else if (requested === 'direct') v.add('visibility', 'Visibility', 'ERR_RESERVED');
    v.check();
    return requested;
  }
  const fallback = userPreferences(author.user, author.account).defaultPrivacy;
  return fallback === 'direct' || !isStatusVisibility(fallback) ? 'public' : fallback;
}

/** Removes the viewer's boost; answers with the original (Mastodon's unreblog). */
export async function unreblog(ctx: Context, accountId: string, id: string): Promise<StatusRecord> {
  const original = await properStatus(ctx, id);
  const existing = await findReblog(ctx, accountId, original.id);
  if (existing === undefined) {
    if (!(await canViewStatus(ctx, accountId, original))) throw notFound();
    return original;
  }
  await deleteStatusRow(ctx, existing);
  return (await findStatus(ctx, original.id)) ?? original;
}
