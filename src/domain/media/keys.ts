import { randomBytes } from 'node:crypto';

/**
 * Storage keys, laid out as Mastodon's Paperclip lays out its files, so that an operator moving from
 * Mastodon (or to a bucket) finds the same tree:
 *
 *   media_attachments/files/110/123/456/789/012/345/original/0a1b2c3d4e5f6789.png
 *   cache/media_attachments/files/…        (remote files: a cache, removable)
 *   accounts/avatars/…/original/….png      accounts/avatars/…/static/….png
 *   accounts/headers/…/original/….jpg
 *
 * The id is split into groups of three digits (Paperclip's `:id_partition`), zero-padded to 18.
 */
export type MediaCollection = 'media_attachments/files' | 'accounts/avatars' | 'accounts/headers';

/** Styles: the processed file, the preview, a still of an animated avatar, a custom thumbnail. */
export type MediaStyle = 'original' | 'small' | 'static' | 'thumbnail';

export function idPartition(id: string): string {
  return id.padStart(18, '0').match(/\d{3}/g)?.join('/') ?? id;
}

/** A fresh key: a random file name, so that a replaced file gets a new URL (caches never go stale). */
export function mediaKey(
  collection: MediaCollection,
  id: string,
  style: MediaStyle,
  extension: string,
  options: { remote?: boolean; name?: string } = {},
): string {
  const name = options.name ?? randomBytes(8).toString('hex');
  const prefix = options.remote ? 'cache/' : '';
  return `${prefix}${collection}/${idPartition(id)}/${style}/${name}.${extension.replace(/^\./, '')}`;
}
