import type { Config } from '../../config/config.ts';
import type { AccountRecord } from '../../domain/accounts/records.ts';
import type { MediaAttachmentRecord } from '../../domain/media/records.ts';
import type { PollView, StatusRecord, StatusView } from '../../domain/statuses/views.ts';
import { accountUrl, tagUrl } from '../../domain/uris.ts';
import { serializeAccount } from './account.ts';
import { serializeMediaAttachment } from './media.ts';

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

/** Mastodon's visibilities that are pinnable (StatusRelationshipsPresenter::PINNABLE_VISIBILITIES). */
const PINNABLE = new Set(['public', 'unlisted', 'private']);

/**
 * The Status entity (REST::StatusSerializer, 4.5) for the view's viewer. `source: true` gives
 * `text` (the source as written) instead of `content`, as DELETE answers for redrafting.
 */
export function serializeStatus(view: StatusView, config: Config, options: { source?: boolean } = {}) {
  const { status: s, viewerAccountId } = view;
  const own = viewerAccountId !== null && viewerAccountId === s.accountId;
  const entity: Record<string, unknown> = {
    id: s.id,
    created_at: s.createdAt.toISOString(),
    in_reply_to_id: s.inReplyToId,
    in_reply_to_account_id: s.inReplyToAccountId,
    sensitive: s.sensitive,
    spoiler_text: s.spoilerText,
    visibility: s.visibility,
    language: s.language,
    uri: s.uri,
    url: s.url,
    replies_count: s.repliesCount,
    reblogs_count: s.reblogsCount,
    favourites_count: s.favouritesCount,
    quotes_count: 0,
    edited_at: iso(s.editedAt),
  };
  if (view.viewer !== null) {
    entity.favourited = view.viewer.favourited;
    entity.reblogged = view.viewer.reblogged;
    entity.muted = view.viewer.muted;
    entity.bookmarked = view.viewer.bookmarked;
    if (own && s.reblogOfId === null && PINNABLE.has(s.visibility)) entity.pinned = view.viewer.pinned;
    entity.filtered = [];
  }
  if (options.source) entity.text = s.text;
  else entity.content = s.content;
  entity.reblog = view.reblog ? serializeStatus(view.reblog, config) : null;
  // Mastodon shows the posting application to the author only, unless the user chose to show it.
  if (own && view.application)
    entity.application = { name: view.application.name, website: view.application.website || null };
  entity.account = serializeAccount(view.account, config);
  entity.media_attachments = view.media.map((m) => serializeMediaAttachment(m, config));
  entity.mentions = view.mentions.map((a) => serializeMention(a, config));
  entity.tags = view.tags.map((t) => serializeTag(t.name, config));
  entity.emojis = [];
  entity.quote = null;
  entity.card = null;
  entity.poll = view.poll ? serializePoll(view.poll, viewerAccountId !== null) : null;
  entity.quote_approval = quoteApproval(s, viewerAccountId);
  return entity;
}

function serializeMention(account: AccountRecord, config: Config) {
  const local = account.domain === null;
  return {
    id: account.id,
    username: account.username,
    url: accountUrl(config, account),
    acct: local ? account.username : `${account.username}@${account.domain}`,
  };
}

export function serializeTag(name: string, config: Config) {
  return { name, url: tagUrl(config, name) };
}

/**
 * 4.5's quote approval. Quotes are not implemented yet, so every status carries the default
 * policy of a new post: public/unlisted quotable by anyone; private and direct by nobody but the
 * author (Mastodon forces "nobody" on them, and the author may always quote themselves).
 */
function quoteApproval(s: StatusRecord, viewer: string | null) {
  const quotable = s.visibility === 'public' || s.visibility === 'unlisted';
  let current: string;
  if (viewer === null || s.visibility === 'direct' || s.reblogOfId !== null) current = 'denied';
  else if (viewer === s.accountId) current = 'automatic';
  else current = quotable ? 'automatic' : 'denied';
  return { automatic: quotable ? ['public'] : [], manual: [], current_user: current };
}

/** The Poll entity (REST::PollSerializer); `signedIn` adds voted and own_votes. */
export function serializePoll(view: PollView, signedIn: boolean) {
  const { poll } = view;
  const expired = poll.expiresAt !== null && poll.expiresAt.getTime() <= Date.now();
  // Totals show once the poll is over, or all along unless the author hid them.
  const showTotals = expired || !poll.hideTotals;
  const entity: Record<string, unknown> = {
    id: poll.id,
    expires_at: iso(poll.expiresAt),
    expired,
    multiple: poll.multiple,
    votes_count: poll.votesCount,
    voters_count: poll.votersCount,
    options: poll.options.map((title, i) => ({
      title,
      votes_count: showTotals ? (poll.votesPerOption[i] ?? 0) : null,
    })),
    emojis: [],
  };
  if (signedIn) {
    const ownVotes = view.ownVotes ?? [];
    entity.voted = view.own || ownVotes.length > 0;
    entity.own_votes = ownVotes;
  }
  return entity;
}

/** One version of a status (REST::StatusEditSerializer). */
export function serializeStatusEdit(
  version: {
    content: string;
    spoilerText: string;
    sensitive: boolean;
    createdAt: Date;
    pollOptions: string[] | null;
    media: MediaAttachmentRecord[];
  },
  account: Record<string, unknown>,
  config: Config,
) {
  const entity: Record<string, unknown> = {
    account,
    content: version.content,
    spoiler_text: version.spoilerText,
    sensitive: version.sensitive,
    created_at: version.createdAt.toISOString(),
    emojis: [],
    media_attachments: version.media.map((m) => serializeMediaAttachment(m, config)),
  };
  if (version.pollOptions) entity.poll = { options: version.pollOptions.map((title) => ({ title })) };
  return entity;
}
