import type { StorageConfig } from '../../config/config.ts';
import { LocalStorage } from './local.ts';
import type { Storage } from './storage.ts';

export type { ListedObject, PutOptions, Storage, StoredObject } from './storage.ts';
export { InvalidStorageKeyError } from './storage.ts';

/**
 * Local files or an S3 bucket, as configured. `baseUrl` is the instance's public origin
 * (`https://WEB_DOMAIN`), used for local URLs when no CDN_HOST is set. The S3 SDK is loaded only
 * when used, so the embedded shape never pays for it.
 */
export async function createStorage(config: StorageConfig, baseUrl: string): Promise<Storage> {
  if (config.kind === 'local') {
    return new LocalStorage({
      root: config.root,
      urlPath: config.urlPath,
      publicOrigin: config.cdnHost ?? baseUrl,
    });
  }
  const { S3Storage } = await import('./s3.ts');
  return new S3Storage(config);
}
