import type { Config } from '../../config/config.ts';
import type { MediaAttachmentRecord } from '../../domain/media/records.ts';
import { mediaUrl } from '../../infra/storage/urls.ts';

/**
 * The MediaAttachment entity (REST::MediaAttachmentSerializer, 4.5). `url` is null while the file
 * is processed; a remote file not cached here points at the media proxy, which fetches it on first
 * use, so that a reader's browser never talks to the remote server directly.
 */
export function serializeMediaAttachment(m: MediaAttachmentRecord, config: Config) {
  const remote = m.remoteUrl !== '';
  const needsDownload = remote && m.fileKey === null;
  const proxy = (style: 'original' | 'small') => `${config.baseUrl}/media_proxy/${m.id}/${style}`;
  let url: string | null = null;
  if (needsDownload) url = proxy('original');
  else if (m.processing === 'complete' && m.fileKey !== null) url = mediaUrl(config, m.fileKey);

  let previewUrl: string | null = null;
  if (needsDownload) previewUrl = proxy('small');
  else if (m.thumbnailKey !== null) previewUrl = mediaUrl(config, m.thumbnailKey);
  else if (m.smallKey !== null) previewUrl = mediaUrl(config, m.smallKey);

  return {
    id: m.id,
    type: m.type,
    url,
    preview_url: previewUrl,
    remote_url: remote ? m.remoteUrl : null,
    preview_remote_url: m.thumbnailRemoteUrl || null,
    text_url: !remote && m.shortcode ? `${config.baseUrl}/media/${m.shortcode}` : null,
    meta: m.fileMeta,
    description: m.description,
    blurhash: m.blurhash,
  };
}
