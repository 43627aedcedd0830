import pkg from '../../../package.json' with { type: 'json' };
import type { Context } from '../context.ts';
import { SUPPORTED_MIME_TYPES } from '../limits.ts';
import { mediaProcessor } from '../media/processor.ts';
import { getSettings, type RegistrationsMode, settingUpdatedAt } from '../settings/settings.ts';
import { type InstanceStats, instanceStats } from './stats.ts';
import { renderAdminText } from './text.ts';

/** Where this software's source is published (AGPL §13); the instance entity links it. */
export const SOURCE_URL = 'https://codeberg.org/woolly/woolly';

export const WOOLLY_VERSION: string = pkg.version;

/** The Mastodon version whose API Woolly implements. */
export const MASTODON_COMPATIBLE_VERSION = '4.5.0';

/** `api_versions.mastodon` of that version (4.3 = 2, 4.4 = 6, 4.5 = 7). */
export const MASTODON_API_VERSION = 7;

/**
 * The `version` clients parse to pick features (Mastodon.py, megalodon, Ivory): a Mastodon version
 * first, the real software after it, as Pleroma and others do.
 */
export const INSTANCE_VERSION = `${MASTODON_COMPATIBLE_VERSION} (compatible; Woolly ${WOOLLY_VERSION})`;

export type FeedAccess = 'public' | 'authenticated' | 'disabled';

/**
 * Who may read the public feeds (Mastodon 4.5's per-feed settings). Everything is public until
 * admin settings for it exist; the timeline endpoints must enforce the same values.
 */
export const TIMELINES_ACCESS: Readonly<
  Record<'live_feeds' | 'hashtag_feeds' | 'trending_link_feeds', { local: FeedAccess; remote: FeedAccess }>
> = {
  live_feeds: { local: 'public', remote: 'public' },
  hashtag_feeds: { local: 'public', remote: 'public' },
  trending_link_feeds: { local: 'public', remote: 'public' },
};

export interface InstanceRegistrations {
  mode: RegistrationsMode;
  /** Sign-ups possible at all: not `none`, and not single-user mode. */
  enabled: boolean;
  approvalRequired: boolean;
  reasonRequired: boolean;
  /** HTML shown when registrations are closed; null when open or no message is set. */
  closedMessageHtml: string | null;
}

/** What the instance says about itself; the API serializes it as the v1 and v2 entities. */
export interface Instance {
  /** LOCAL_DOMAIN: the domain in every handle and URI. */
  domain: string;
  title: string;
  /** Plain text. */
  shortDescription: string;
  contactEmail: string;
  contactUsername: string;
  languages: string[];
  registrations: InstanceRegistrations;
  statusPageUrl: string | null;
  stats: InstanceStats;
  /** LIMITED_FEDERATION_MODE (allow-list federation) does not exist in Woolly yet. */
  limitedFederation: boolean;
  translationEnabled: boolean;
  inviteEnabled: boolean;
  /** The upload types this server processes: images only when ffmpeg is missing. */
  supportedMimeTypes: string[];
}

export async function getInstance(ctx: Pick<Context, 'config' | 'database'>): Promise<Instance> {
  const [settings, stats, processor] = await Promise.all([
    getSettings(ctx),
    instanceStats(ctx),
    mediaProcessor(ctx),
  ]);
  const enabled = settings.registrations_mode !== 'none' && !ctx.config.singleUserMode;
  const approvalRequired = settings.registrations_mode === 'approved';
  const closedMessage = renderAdminText(settings.closed_registrations_message);
  return {
    domain: ctx.config.localDomain,
    title: settings.site_title,
    shortDescription: settings.site_short_description,
    contactEmail: settings.site_contact_email,
    contactUsername: settings.site_contact_username,
    languages: [ctx.config.defaultLocale],
    registrations: {
      mode: settings.registrations_mode,
      enabled,
      approvalRequired,
      reasonRequired: approvalRequired && settings.require_invite_text,
      closedMessageHtml: enabled || closedMessage === '' ? null : closedMessage,
    },
    statusPageUrl: settings.status_page_url === '' ? null : settings.status_page_url,
    stats,
    limitedFederation: false,
    translationEnabled: false,
    inviteEnabled: false,
    supportedMimeTypes: SUPPORTED_MIME_TYPES.filter(
      (t) =>
        // HEIC/HEIF: no decoder in the bundled libvips or Debian's ffmpeg (src/infra/media).
        t !== 'image/heic' && t !== 'image/heif' && (processor.videoSupported || t.startsWith('image/')),
    ),
  };
}

/** An admin-written page: its HTML and when it was last changed (null: never written). */
export interface InstanceDocument {
  html: string;
  updatedAt: Date | null;
}

/** The about page's long text (`site_extended_description`). */
export async function getExtendedDescription(ctx: Pick<Context, 'database'>): Promise<InstanceDocument> {
  const settings = await getSettings(ctx);
  const text = settings.site_extended_description;
  return {
    html: renderAdminText(text),
    updatedAt: text === '' ? null : await settingUpdatedAt(ctx, 'site_extended_description'),
  };
}

/** The privacy policy (`site_terms`, Mastodon's name for it). */
export async function getPrivacyPolicy(ctx: Pick<Context, 'database'>): Promise<InstanceDocument> {
  const settings = await getSettings(ctx);
  const text = settings.site_terms;
  return {
    html: renderAdminText(text),
    updatedAt: text === '' ? null : await settingUpdatedAt(ctx, 'site_terms'),
  };
}
