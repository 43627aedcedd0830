import { and, eq, isNull, sql } from 'drizzle-orm';
import { newId } from '../../db/ids.ts';
import { accounts, users } from '../../db/schema/index.ts';
import { postingLanguage, userPreferences } from '../accounts/profile.ts';
import type { AccountRecord, UserRecord } from '../accounts/records.ts';
import { assertActionAllowed, recordAction } from '../action-limits.ts';
import type { Context } from '../context.ts';
import { DomainError } from '../errors.ts';
import { isIso6391 } from '../instance/languages.ts';
import { STATUS_LIMITS } from '../limits.ts';
import { mediaToAttach } from '../media/attach.ts';
import type { MediaAttachmentRecord } from '../media/records.ts';
import { localStatusUris } from '../uris.ts';
import { Validator } from '../validation.ts';
import { canInteract, isStatusVisibility } from '../visibility/visibility.ts';
import { IN_REPLY_NOT_FOUND } from './messages.ts';
import { newPoll, type PollParams, validatePoll } from './polls.ts';
import { afterStore, storeStatus } from './store.ts';
import { countableLength, hashtagsOf, isLocalDomain, mentionsOf, renderStatusHtml } from './text.ts';
import { findStatus, type StatusRecord } from './views.ts';

/**
 * What a local author writes becomes a status here: the request is validated, its text rendered to
 * HTML and its mentions and hashtags resolved (`prepareStatus`), then it is stored through the
 * path every status takes (store.ts). Posting now (create.ts) and publishing a scheduled post
 * (scheduled.ts) both come this way.
 */

export interface Author {
  account: AccountRecord;
  user: UserRecord;
}

/** A new status as the client asked for it, already parsed from the request. */
export interface StatusParams {
  text: string;
  spoilerText: string;
  /** Null: the user's default. */
  sensitive: boolean | null;
  /** Null: the user's default. Validated here. */
  visibility: string | null;
  /** Null or not ISO 639-1: the user's default. */
  language: string | null;
  inReplyToId: string | null;
  mediaIds: string[];
  poll: PollParams | null;
  /** Ids of the accounts the client expects the status to mention (null: anyone). */
  allowedMentions: string[] | null;
}

export interface PreparedStatus {
  text: string;
  spoilerText: string;
  sensitive: boolean;
  visibility: string;
  language: string | null;
  thread: StatusRecord | null;
  mentioned: AccountRecord[];
  hashtags: { name: string; displayName: string }[];
  poll: PollParams | null;
  /** The attachments, checked, in the author's order. */
  media: MediaAttachmentRecord[];
  content: string;
}

/** Validates a new status and resolves what it refers to; throws before anything is written. */
export async function prepareStatus(
  ctx: Context,
  author: Author,
  params: StatusParams,
): Promise<PreparedStatus> {
  const prefs = userPreferences(author.user, author.account);
  let text = params.text.trim();
  let spoilerText = params.spoilerText.trim();
  // A content warning alone becomes the text (Mastodon's composer lets one post just a CW).
  if (text === '' && spoilerText !== '') {
    text = spoilerText;
    spoilerText = '';
  }
  const sensitive =
    (params.sensitive ?? prefs.defaultSensitive) || spoilerText !== '' || params.spoilerText.trim() !== '';
  const visibility = params.visibility ?? prefs.defaultPrivacy;
  const v = new Validator();
  if (!isStatusVisibility(visibility)) v.add('visibility', 'Visibility', 'ERR_INCLUSION');
  validateText(v, text, spoilerText, { withMedia: params.mediaIds.length > 0 });
  if (params.poll) validatePoll(v, params.poll);
  v.check();
  const media = await mediaToAttach(ctx, author.account.id, params.mediaIds);

  let thread: StatusRecord | null = null;
  if (params.inReplyToId !== null) {
    let found = await findStatus(ctx, params.inReplyToId);
    if (found?.reblogOfId) found = await findStatus(ctx, found.reblogOfId);
    if (found === undefined || !(await canInteract(ctx, author.account.id, found))) {
      throw new DomainError('not_found', IN_REPLY_NOT_FOUND);
    }
    thread = found;
  }

  const mentioned = await resolveMentions(ctx, text);
  if (params.allowedMentions !== null) {
    const allowed = new Set(params.allowedMentions);
    const unexpected = mentioned.filter((a) => !allowed.has(a.id));
    if (unexpected.length > 0) {
      throw new DomainError('unprocessable', 'Post would be sent to unexpected accounts', {
        unexpectedAccountIds: unexpected.map((a) => a.id),
      });
    }
  }
  const language =
    params.language !== null && isIso6391(params.language.toLowerCase())
      ? params.language.toLowerCase()
      : postingLanguage(author.user, author.account, ctx.config.defaultLocale);
  return {
    text,
    spoilerText,
    sensitive,
    visibility,
    language,
    thread,
    mentioned,
    hashtags: hashtagsOf(text),
    poll: params.poll,
    media,
    content: renderStatusHtml(text, ctx.config, mentioned),
  };
}

/**
 * A local status's text: within the character limit, and not blank unless media carry the post
 * (a new post or an edit).
 */
export function validateText(
  v: Validator,
  text: string,
  spoilerText: string,
  options: { withMedia: boolean },
): void {
  const max = STATUS_LIMITS.maxCharacters;
  if (text === '') {
    if (!options.withMedia) v.add('text', 'Text', 'ERR_BLANK');
  } else if (countableLength(text, spoilerText) > max)
    v.add('text', 'Text', 'ERR_TOO_LONG', `character limit of ${max} exceeded`);
}

/**
 * The local accounts a text mentions (`@user`, `@user@this.domain`), confirmed and not suspended;
 * remote mentions wait for federation, unknown ones stay text.
 */
export async function resolveMentions(
  ctx: Pick<Context, 'database' | 'config'>,
  text: string,
): Promise<AccountRecord[]> {
  const names = mentionsOf(text)
    .filter((m) => isLocalDomain(m.domain, ctx.config))
    .map((m) => m.username.toLowerCase());
  if (names.length === 0) return [];
  const rows = await ctx.database.db
    .select({ account: accounts })
    .from(accounts)
    .innerJoin(users, eq(users.accountId, accounts.id))
    .where(
      and(
        isNull(accounts.domain),
        isNull(accounts.suspendedAt),
        sql`lower(${accounts.username}) in ${[...new Set(names)]}`,
        sql`${users.confirmedAt} is not null`,
        eq(users.approved, true),
      ),
    );
  // In the order they appear in the text.
  const byName = new Map(rows.map((r) => [r.account.username.toLowerCase(), r.account]));
  return [...new Set(names)].flatMap((n) => {
    const a = byName.get(n);
    return a ? [a] : [];
  });
}

/**
 * Stores a prepared local status and lets the server know (feeds, notifications, the poll's end).
 * With `countAction` (API posts, not the scheduler's) it counts against the author's action limit:
 * checked before the write, recorded after it.
 */
export async function publishPrepared(
  ctx: Context,
  author: Author,
  p: PreparedStatus,
  options: { applicationId: string | null; countAction?: boolean },
): Promise<StatusRecord> {
  if (options.countAction) await assertActionAllowed(ctx, author.account.id, 'statuses');
  const now = new Date();
  const id = newId(now);
  const thread = p.thread;
  const status = await storeStatus(ctx, {
    id,
    accountId: author.account.id,
    ...localStatusUris(ctx.config, author.account.username, id),
    local: true,
    text: p.text,
    content: p.content,
    spoilerText: p.spoilerText,
    visibility: p.visibility,
    sensitive: p.sensitive,
    language: p.language,
    inReplyToId: thread?.id ?? null,
    inReplyToAccountId: thread ? carriedReplyToAccount(thread, author.account.id) : null,
    conversationId: thread ? (thread.conversationId ?? thread.id) : id,
    reblogOfId: null,
    applicationId: options.applicationId,
    mentionedAccountIds: p.mentioned.map((a) => a.id),
    tags: p.hashtags,
    poll: p.poll ? newPoll(p.poll, now) : null,
    mediaAttachmentIds: p.media.map((m) => m.id),
    createdAt: now,
  });
  if (options.countAction) await recordAction(ctx, author.account.id, 'statuses');
  await afterStore(ctx, status, { mentionedAccountIds: p.mentioned.map((a) => a.id) });
  return status;
}

/** A self-reply in a thread replies, as far as others see, to whom the thread replied. */
function carriedReplyToAccount(thread: StatusRecord, authorId: string): string {
  if (thread.accountId === authorId && thread.inReplyToAccountId !== null) return thread.inReplyToAccountId;
  return thread.accountId;
}
