import type { NotificationRecord } from '../notifications/types.ts';

/** What the streams need to know about a status that is gone (the row may be deleted already). */
export interface DeletedStatus {
  id: string;
  visibility: string;
  /** The status it boosted, when it was a reblog. */
  reblogOfId: string | null;
  /** Whether its author is a local account (the `:local` / `:remote` half of the public channels). */
  local: boolean;
  /** Its hashtag names (any spelling: channel names are normalised). */
  tags: readonly string[];
  /** Whether it had media attachments (the `:media` public channels). */
  withMedia: boolean;
}

/** The `announcement.reaction` payload (Mastodon's PublishAnnouncementReactionWorker). */
export interface AnnouncementReaction {
  announcementId: string;
  /** The emoji: a unicode emoji or a custom emoji's shortcode. */
  name: string;
  /** How many accounts reacted with it now. */
  count: number;
}

/**
 * The domain's publishing points for the streaming API (issue 5), as `ctx.streams`. Every method
 * renders what the streams need and publishes it on ctx.pubsub, and never throws: a failure is
 * logged and the operation that triggered it goes on (a missed event costs a client a refresh,
 * a failed post would cost the user their post).
 */
export interface StreamEvents {
  /**
   * A new status was fanned out: `update` to the homes it went into (rendered for each viewer,
   * only for viewers streaming), and to the public and hashtag channels when it is public.
   */
  statusDistributed(statusId: string, homeRecipients: readonly string[]): Promise<void>;
  /**
   * A status was edited: `status.update` to the homes that hold it (viewers streaming), to the
   * notification streams of the local accounts it mentions, and to the public and hashtag channels.
   */
  statusUpdated(statusId: string, homeRecipients: readonly string[]): Promise<void>;
  /** A status or a reblog was deleted: `delete` with its id to those homes, public and hashtag channels. */
  statusDeleted(status: DeletedStatus, homeRecipients: readonly string[]): Promise<void>;
  /** A notification was stored: `notification` to its recipient, unless it is filtered. */
  notification(notification: NotificationRecord): Promise<void>;
  /** Filtered notifications joined the account's list (requests accepted): `notifications_merged`. */
  notificationsMerged(accountId: string): Promise<void>;
  /** These access tokens were revoked: `kill` closes the connections they opened. */
  tokensRevoked(tokenIds: readonly string[]): Promise<void>;
  /** The account was disabled, suspended or deleted: `kill` closes all of its connections. */
  accountClosed(accountId: string): Promise<void>;
  /**
   * The blocks, mutes, domain blocks, blockers or chosen languages of these accounts changed: the
   * streaming server reloads what it filters their public and hashtag streams with.
   */
  viewerStateChanged(accountIds: readonly string[]): Promise<void>;
  /**
   * The account's keyword filters changed: `filters_changed` to its clients and to the streaming
   * server (cached filters). Called by the keyword-filters feature (`/api/v2/filters`) once it exists; no issue is filed for it yet.
   */
  filtersChanged(accountId: string): Promise<void>;
  /**
   * An announcement was published: `announcement` with the rendered Announcement entity to every
   * local account streaming its `user` stream. Called by the announcements feature (admin
   * announcements, `/api/v1/announcements`) once it exists; no issue is filed for it yet.
   */
  announcement(entity: Readonly<Record<string, unknown>>): Promise<void>;
  /** A reaction to an announcement changed its count: `announcement.reaction` (announcements feature). */
  announcementReaction(reaction: AnnouncementReaction): Promise<void>;
  /** An announcement was unpublished or deleted: `announcement.delete` (announcements feature). */
  announcementDeleted(announcementId: string): Promise<void>;
  /**
   * A direct conversation of the account changed: `conversation` on its `direct` stream, rendered by
   * `render` (for that account) only while it streams. Called by the conversations feature
   * (`/api/v1/conversations`) once it exists; no issue is filed for it yet.
   */
  conversation(accountId: string, render: () => Promise<Readonly<Record<string, unknown>>>): Promise<void>;
}
