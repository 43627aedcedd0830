import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { newId } from '../../src/db/ids.ts';
import { accounts, mediaAttachments } from '../../src/db/schema/index.ts';
import type { Context } from '../../src/domain/context.ts';
import { mediaKey } from '../../src/domain/media/keys.ts';

/**
 * Media rows written straight into the database with their files in storage, for the suites of
 * what reads them (housekeeping, lookup, usage) rather than uploading, which has its own suites.
 */
type Ctx = Pick<Context, 'database' | 'storage'>;

export interface StoredAttachment {
  id: string;
  fileKey: string;
  smallKey: string;
  thumbnailKey: string | null;
  /** Every key stored for the row. */
  keys: string[];
}

export interface AttachmentInput {
  accountId: string;
  statusId?: string | null;
  scheduledStatusId?: string | null;
  /** A remote attachment's URL ('' for a local upload, the default); its files go under `cache/`. */
  remoteUrl?: string;
  createdAt?: Date;
  updatedAt?: Date;
  /** Bytes of the original (default 100); the preview has 10. */
  fileSize?: number;
  /** Store a custom thumbnail of this many bytes. */
  thumbnailSize?: number;
  /** Write the row only: the files are not put in storage. */
  rowOnly?: boolean;
}

/** Inserts an image attachment with an original and a preview (and a thumbnail when asked). */
export async function insertAttachment(ctx: Ctx, input: AttachmentInput): Promise<StoredAttachment> {
  const id = newId();
  const remote = (input.remoteUrl ?? '') !== '';
  const fileSize = input.fileSize ?? 100;
  const fileKey = mediaKey('media_attachments/files', id, 'original', 'png', { remote });
  const smallKey = mediaKey('media_attachments/files', id, 'small', 'png', { remote });
  const thumbnailKey =
    input.thumbnailSize === undefined
      ? null
      : mediaKey('media_attachments/files', id, 'thumbnail', 'jpg', { remote });
  if (!input.rowOnly) {
    await ctx.storage.put(fileKey, randomBytes(fileSize), { contentType: 'image/png' });
    await ctx.storage.put(smallKey, randomBytes(10), { contentType: 'image/png' });
    if (thumbnailKey !== null) {
      await ctx.storage.put(thumbnailKey, randomBytes(input.thumbnailSize ?? 0), {
        contentType: 'image/jpeg',
      });
    }
  }
  await ctx.database.db.insert(mediaAttachments).values({
    id,
    accountId: input.accountId,
    statusId: input.statusId ?? null,
    scheduledStatusId: input.scheduledStatusId ?? null,
    type: 'image',
    fileKey,
    fileContentType: 'image/png',
    fileSize,
    smallKey,
    thumbnailKey,
    thumbnailContentType: thumbnailKey === null ? null : 'image/jpeg',
    thumbnailFileSize: input.thumbnailSize ?? null,
    remoteUrl: input.remoteUrl ?? '',
    shortcode: remote ? null : randomBytes(9).toString('base64url'),
    ...(input.createdAt ? { createdAt: input.createdAt } : {}),
    ...(input.updatedAt || input.createdAt ? { updatedAt: input.updatedAt ?? input.createdAt } : {}),
  });
  return {
    id,
    fileKey,
    smallKey,
    thumbnailKey,
    keys: [fileKey, smallKey, ...(thumbnailKey === null ? [] : [thumbnailKey])],
  };
}

/** Inserts a remote account (no user) of `domain`. */
export async function insertRemoteAccount(
  ctx: Ctx,
  options: { domain?: string; username?: string; updatedAt?: Date } = {},
): Promise<string> {
  const id = newId();
  const username = options.username ?? `remote_${randomBytes(4).toString('hex')}`;
  const domain = options.domain ?? 'remote.example';
  await ctx.database.db.insert(accounts).values({
    id,
    username,
    domain,
    uri: `https://${domain}/users/${username}`,
    url: `https://${domain}/@${username}`,
    ...(options.updatedAt ? { updatedAt: options.updatedAt } : {}),
  });
  return id;
}

export interface StoredProfileImages {
  avatarKey: string;
  avatarStaticKey: string;
  headerKey: string;
  headerStaticKey: string;
}

/** Stores an avatar (40 bytes, with a still of 4) and a header (300 bytes, still 3) for an account. */
export async function storeProfileImages(
  ctx: Ctx,
  accountId: string,
  options: { remote: boolean; updatedAt?: Date },
): Promise<StoredProfileImages> {
  const key = (collection: 'accounts/avatars' | 'accounts/headers', style: 'original' | 'static') =>
    mediaKey(collection, accountId, style, 'png', { remote: options.remote });
  const keys = {
    avatarKey: key('accounts/avatars', 'original'),
    avatarStaticKey: key('accounts/avatars', 'static'),
    headerKey: key('accounts/headers', 'original'),
    headerStaticKey: key('accounts/headers', 'static'),
  };
  const sizes = { avatarKey: 40, avatarStaticKey: 4, headerKey: 300, headerStaticKey: 3 };
  for (const [name, k] of Object.entries(keys)) {
    await ctx.storage.put(k, randomBytes(sizes[name as keyof typeof sizes]), { contentType: 'image/png' });
  }
  await ctx.database.db
    .update(accounts)
    .set({
      ...keys,
      avatarFileSize: 40,
      headerFileSize: 300,
      avatarContentType: 'image/png',
      headerContentType: 'image/png',
      avatarRemoteUrl: options.remote ? `https://remote.example/avatars/${accountId}.png` : '',
      headerRemoteUrl: options.remote ? `https://remote.example/headers/${accountId}.png` : '',
      ...(options.updatedAt ? { updatedAt: options.updatedAt } : {}),
    })
    .where(eq(accounts.id, accountId));
  return keys;
}

/** Whether each key is in storage, in order. */
export async function existing(ctx: Ctx, keys: readonly string[]): Promise<boolean[]> {
  return Promise.all(keys.map((key) => ctx.storage.exists(key)));
}

export const daysAgo = (days: number): Date => new Date(Date.now() - days * 24 * 60 * 60 * 1000);
