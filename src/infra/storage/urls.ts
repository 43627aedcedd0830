import type { Config, StorageConfig } from '../../config/config.ts';
import { assertValidKey, encodeKey } from './storage.ts';

/**
 * The public URL of a stored file, from the configuration alone. The storage adapters give the
 * same answer (`Storage.url`); converters use this so that rendering an entity needs no client.
 *
 * Local files: `CDN_HOST` or the instance's origin, then `PAPERCLIP_ROOT_URL` and the key. A bucket:
 * `S3_ALIAS_HOST` when set (a CDN or proxy in front of it), else the endpoint or AWS host, path- or
 * virtual-hosted style as configured.
 */
export function storageUrl(storage: StorageConfig, baseUrl: string, key: string): string {
  assertValidKey(key);
  if (storage.kind === 'local') {
    const origin = (storage.cdnHost ?? baseUrl).replace(/\/+$/, '');
    const path = storage.urlPath.replace(/^\/*/, '/').replace(/\/+$/, '');
    return `${origin}${path}/${encodeKey(key)}`;
  }
  const prefix = storage.keyPrefix.replace(/^\/+|\/+$/g, '');
  const path = encodeKey(prefix === '' ? key : `${prefix}/${key}`);
  const { aliasHost, endpoint, hostname, protocol, bucket, region } = storage;
  if (aliasHost !== undefined) {
    const origin = aliasHost.includes('://') ? aliasHost : `${protocol}://${aliasHost}`;
    return `${origin.replace(/\/+$/, '')}/${path}`;
  }
  if (endpoint !== undefined) return `${endpoint.replace(/\/+$/, '')}/${bucket}/${path}`;
  if (hostname !== undefined) return `${protocol}://${hostname}/${bucket}/${path}`;
  if (storage.pathStyle) return `${protocol}://s3.${region}.amazonaws.com/${bucket}/${path}`;
  return `${protocol}://${bucket}.s3.${region}.amazonaws.com/${path}`;
}

/** storageUrl for the instance's own configuration. */
export function mediaUrl(config: Pick<Config, 'storage' | 'baseUrl'>, key: string): string {
  return storageUrl(config.storage, config.baseUrl, key);
}
