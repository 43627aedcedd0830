import type { Readable } from 'node:stream';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ObjectCannedACL,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { StorageConfig } from '../../config/config.ts';
import {
  assertValidKey,
  assertValidPrefix,
  isValidKey,
  type ListedObject,
  type PutOptions,
  type Storage,
  type StoredObject,
} from './storage.ts';
import { storageUrl } from './urls.ts';

export type S3StorageConfig = Extract<StorageConfig, { kind: 's3' }>;

/** An S3-compatible bucket (AWS, MinIO, Garage, R2, Wasabi, …) for the scaled shape. */
export class S3Storage implements Storage {
  private readonly client: S3Client;
  private readonly config: S3StorageConfig;
  private readonly keyPrefix: string;
  private readonly listPageSize: number;

  /** `listPageSize`: keys per ListObjectsV2 request (S3's maximum, 1000, unless a test wants pages). */
  constructor(config: S3StorageConfig, options: { listPageSize?: number } = {}) {
    this.config = config;
    this.listPageSize = options.listPageSize ?? 1000;
    this.keyPrefix = config.keyPrefix.replace(/^\/+|\/+$/g, '');
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.pathStyle,
      credentials:
        config.accessKeyId !== undefined && config.secretAccessKey !== undefined
          ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey }
          : undefined,
      // Many S3-compatible servers reject the CRC checksums newer SDKs send by default.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async put(key: string, body: Buffer | Readable, opts: PutOptions): Promise<void> {
    const params = {
      Bucket: this.config.bucket,
      Key: this.objectKey(key),
      Body: body,
      ContentType: opts.contentType,
      CacheControl: opts.cacheControl,
      ACL: this.config.permission as ObjectCannedACL | undefined,
    };
    if (Buffer.isBuffer(body)) {
      await this.client.send(new PutObjectCommand(params));
    } else {
      // A stream has no known length, which PutObject needs; Upload sends it in parts.
      await new Upload({ client: this.client, params }).done();
    }
  }

  async get(key: string): Promise<StoredObject | null> {
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }),
      );
      if (out.Body === undefined) return null;
      return { body: out.Body as Readable, contentType: out.ContentType, size: out.ContentLength };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async delete(keys: string[]): Promise<void> {
    const objectKeys = keys.map((key) => this.objectKey(key));
    // DeleteObjects takes at most 1000 keys per request.
    for (let i = 0; i < objectKeys.length; i += 1000) {
      const batch = objectKeys.slice(i, i + 1000);
      const out = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.config.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0];
        throw new Error(
          `S3 delete failed for ${failed.length} object(s), first ${first?.Key}: ${first?.Code} ${first?.Message}`,
        );
      }
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    assertValidPrefix(prefix);
    const base = this.keyPrefix === '' ? '' : `${this.keyPrefix}/`;
    let continuationToken: string | undefined;
    do {
      // A page at a time; the token carries on where the page ended.
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.config.bucket,
          Prefix: `${base}${prefix}`,
          MaxKeys: this.listPageSize,
          ContinuationToken: continuationToken,
        }),
      );
      for (const object of out.Contents ?? []) {
        if (object.Key === undefined || !object.Key.startsWith(base)) continue;
        const key = object.Key.slice(base.length);
        // "Folder" placeholders (`a/b/`) and names no key could have are not ours.
        if (!isValidKey(key)) continue;
        yield { key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
      }
      continuationToken = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (continuationToken !== undefined);
  }

  url(key: string): string {
    return storageUrl(this.config, '', key);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    assertValidKey(key);
    return this.keyPrefix === '' ? key : `${this.keyPrefix}/${key}`;
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}
