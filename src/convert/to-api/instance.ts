import type { Context } from '../../domain/context.ts';
import {
  INSTANCE_VERSION,
  type Instance,
  type InstanceDocument,
  MASTODON_API_VERSION,
  SOURCE_URL,
  TIMELINES_ACCESS,
} from '../../domain/instance/instance.ts';
import { ACCOUNT_LIMITS, MEDIA_LIMITS, POLL_LIMITS, STATUS_LIMITS } from '../../domain/limits.ts';
import { assetUrl } from '../../domain/uris.ts';

/** What the serializers need besides the instance: public URLs and the VAPID key. */
export type SerializerEnv = Pick<Context, 'config' | 'secrets'>;

/** Mastodon's default thumbnail when the admin has uploaded none: a bundled preview image. */
const DEFAULT_THUMBNAIL = 'preview.png';

const statusesConfiguration = () => ({
  max_characters: STATUS_LIMITS.maxCharacters,
  max_media_attachments: STATUS_LIMITS.maxMediaAttachments,
  characters_reserved_per_url: STATUS_LIMITS.charactersReservedPerUrl,
});

const mediaConfiguration = (instance: Instance) => ({
  supported_mime_types: instance.supportedMimeTypes,
  image_size_limit: MEDIA_LIMITS.imageSizeLimit,
  image_matrix_limit: MEDIA_LIMITS.imageMatrixLimit,
  video_size_limit: MEDIA_LIMITS.videoSizeLimit,
  video_frame_rate_limit: MEDIA_LIMITS.videoFrameRateLimit,
  video_matrix_limit: MEDIA_LIMITS.videoMatrixLimit,
});

const pollsConfiguration = () => ({
  max_options: POLL_LIMITS.maxOptions,
  max_characters_per_option: POLL_LIMITS.maxCharactersPerOption,
  min_expiration: POLL_LIMITS.minExpiration,
  max_expiration: POLL_LIMITS.maxExpiration,
});

/** The Instance entity of `GET /api/v2/instance` (Mastodon 4.5). */
export function serializeInstance(instance: Instance, env: SerializerEnv, contactAccount: unknown = null) {
  const { baseUrl } = env.config;
  return {
    domain: instance.domain,
    title: instance.title,
    version: INSTANCE_VERSION,
    source_url: SOURCE_URL,
    description: instance.shortDescription,
    usage: { users: { active_month: instance.limitedFederation ? 0 : instance.stats.activeMonth } },
    thumbnail: { url: assetUrl(env.config, DEFAULT_THUMBNAIL) },
    icon: [] as { src: string; size: string }[],
    languages: instance.languages,
    configuration: {
      urls: {
        streaming: env.config.streaming.baseUrl,
        status: instance.statusPageUrl,
        about: `${baseUrl}/about`,
        privacy_policy: `${baseUrl}/privacy-policy`,
        terms_of_service: null,
      },
      vapid: { public_key: env.secrets.VAPID_PUBLIC_KEY },
      accounts: {
        max_featured_tags: ACCOUNT_LIMITS.maxFeaturedTags,
        max_pinned_statuses: ACCOUNT_LIMITS.maxPinnedStatuses,
      },
      statuses: statusesConfiguration(),
      // v2 adds the alt-text limit to what v1 says.
      media_attachments: {
        ...mediaConfiguration(instance),
        description_limit: MEDIA_LIMITS.descriptionLimit,
      },
      polls: pollsConfiguration(),
      translation: { enabled: instance.translationEnabled },
      timelines_access: {
        live_feeds: { ...TIMELINES_ACCESS.live_feeds },
        hashtag_feeds: { ...TIMELINES_ACCESS.hashtag_feeds },
        trending_link_feeds: { ...TIMELINES_ACCESS.trending_link_feeds },
      },
      limited_federation: instance.limitedFederation,
    },
    registrations: {
      enabled: instance.registrations.enabled,
      approval_required: instance.registrations.approvalRequired,
      reason_required: instance.registrations.reasonRequired,
      message: instance.registrations.closedMessageHtml,
      min_age: null,
      url: null,
    },
    api_versions: { mastodon: MASTODON_API_VERSION },
    contact: { email: instance.contactEmail, account: contactAccount },
    rules: [] as unknown[],
  };
}

/** The deprecated V1 Instance entity of `GET /api/v1/instance`. */
export function serializeInstanceV1(instance: Instance, env: SerializerEnv, contactAccount: unknown = null) {
  return {
    uri: instance.domain,
    title: instance.title,
    short_description: instance.shortDescription,
    description: instance.shortDescription,
    email: instance.contactEmail,
    version: INSTANCE_VERSION,
    urls: { streaming_api: env.config.streaming.baseUrl },
    stats: {
      user_count: instance.stats.userCount,
      status_count: instance.stats.statusCount,
      domain_count: instance.stats.domainCount,
    },
    thumbnail: assetUrl(env.config, DEFAULT_THUMBNAIL),
    languages: instance.languages,
    registrations: instance.registrations.enabled,
    approval_required: instance.registrations.approvalRequired,
    invites_enabled: instance.inviteEnabled,
    configuration: {
      accounts: { max_featured_tags: ACCOUNT_LIMITS.maxFeaturedTags },
      statuses: statusesConfiguration(),
      media_attachments: mediaConfiguration(instance),
      polls: pollsConfiguration(),
    },
    contact_account: contactAccount,
    rules: [] as unknown[],
  };
}

/** ExtendedDescription / PrivacyPolicy: `updated_at` is null while the text was never written (as in Mastodon). */
export function serializeInstanceDocument(doc: InstanceDocument) {
  return { updated_at: doc.updatedAt?.toISOString() ?? null, content: doc.html };
}
