import { createReadStream } from 'node:fs';
import { eq } from 'drizzle-orm';
import { accounts } from '../../db/schema/index.ts';
import { MediaProcessingError, type ProcessedFile } from '../../infra/media/index.ts';
import type { Context } from '../context.ts';
import { DomainError } from '../errors.ts';
import { invalidField, type Validator } from '../validation.ts';
import { mediaKey } from './keys.ts';
import { type MediaContext, mediaProcessor } from './processor.ts';
import type { UploadedFile } from './upload.ts';

/**
 * Avatars (400×400) and headers (1500×500), as Mastodon's Account::Avatar / Account::Header: a
 * still image or an animated one with a still frame beside it, cropped to fill. Local users set
 * them in update_credentials; remote ones are a cache of the actor's icon and image.
 */
export type ProfileImageKind = 'avatar' | 'header';

/** Mastodon's limit for both (8 MB with libvips) and the types it takes. */
export const PROFILE_IMAGE_SIZE_LIMIT = 8 * 1024 * 1024;
const PROFILE_IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** The account columns of one kind of image. */
export interface ProfileImageColumns {
  key: string | null;
  staticKey: string | null;
  contentType: string | null;
  fileSize: number | null;
  updatedAt: Date | null;
}

const LABEL: Record<ProfileImageKind, string> = { avatar: 'Avatar', header: 'Header' };

/** Checks an upload for an avatar or header; adds to `v` what is wrong with it. */
export function checkProfileImage(v: Validator, kind: ProfileImageKind, file: UploadedFile): void {
  if (file.size > PROFILE_IMAGE_SIZE_LIMIT)
    v.add(kind, LABEL[kind], 'ERR_INVALID', `must be less than ${PROFILE_IMAGE_SIZE_LIMIT / 1024 / 1024} MB`);
}

/**
 * Processes and stores an avatar or header; the columns to write. The old files are the caller's to
 * delete once the row points at the new ones (profileImageKeys).
 */
export async function storeProfileImage(
  ctx: MediaContext,
  accountId: string,
  kind: ProfileImageKind,
  path: string,
  options: { remote: boolean },
): Promise<ProfileImageColumns> {
  const processor = await mediaProcessor(ctx);
  const refuse = (description: string): never => {
    throw invalidField(kind, LABEL[kind], description);
  };
  try {
    const identified = await processor.identify(path);
    if (!PROFILE_IMAGE_TYPES.has(identified.mimetype)) refuse('must be a JPEG, PNG, GIF or WebP image');
  } catch (error) {
    if (error instanceof MediaProcessingError) refuse('must be a JPEG, PNG, GIF or WebP image');
    throw error;
  }
  let made: { original: ProcessedFile; static: ProcessedFile | null };
  try {
    made = await processor.profileImage(path, kind);
  } catch (error) {
    if (error instanceof MediaProcessingError) throw new DomainError('unprocessable', error.message);
    throw error;
  }
  try {
    const collection = kind === 'avatar' ? 'accounts/avatars' : 'accounts/headers';
    const put = async (file: ProcessedFile, style: 'original' | 'static') => {
      const key = mediaKey(collection, accountId, style, file.extension, { remote: options.remote });
      await ctx.storage.put(key, createReadStream(file.path), {
        contentType: file.contentType,
        cacheControl: 'public, max-age=31536000, immutable',
      });
      return key;
    };
    return {
      key: await put(made.original, 'original'),
      staticKey: made.static ? await put(made.static, 'static') : null,
      contentType: made.original.contentType,
      fileSize: made.original.size,
      updatedAt: new Date(),
    };
  } finally {
    await processor.cleanup(made.original, made.static);
  }
}

/** The account columns for `kind`, as drizzle names them. */
export function profileImageChange(kind: ProfileImageKind, c: ProfileImageColumns) {
  return kind === 'avatar'
    ? {
        avatarKey: c.key,
        avatarStaticKey: c.staticKey,
        avatarContentType: c.contentType,
        avatarFileSize: c.fileSize,
        avatarUpdatedAt: c.updatedAt,
      }
    : {
        headerKey: c.key,
        headerStaticKey: c.staticKey,
        headerContentType: c.contentType,
        headerFileSize: c.fileSize,
        headerUpdatedAt: c.updatedAt,
      };
}

type ImageKeys = Pick<
  typeof accounts.$inferSelect,
  'avatarKey' | 'avatarStaticKey' | 'headerKey' | 'headerStaticKey'
>;

/** The stored files of an account's avatar or header. */
export function profileImageKeys(account: ImageKeys, kind: ProfileImageKind): string[] {
  const keys =
    kind === 'avatar'
      ? [account.avatarKey, account.avatarStaticKey]
      : [account.headerKey, account.headerStaticKey];
  return keys.filter((k): k is string => k !== null);
}

/** DELETE /api/v1/profile/avatar|header: back to the default image, and its files go; the account after. */
export async function removeProfileImage(
  ctx: Context,
  accountId: string,
  kind: ProfileImageKind,
): Promise<typeof accounts.$inferSelect | undefined> {
  const [account] = await ctx.database.db.select().from(accounts).where(eq(accounts.id, accountId));
  if (account === undefined) return undefined;
  const keys = profileImageKeys(account, kind);
  if (keys.length === 0) return account;
  const now = new Date();
  const cleared = { key: null, staticKey: null, contentType: null, fileSize: null, updatedAt: now };
  const [updated] = await ctx.database.db
    .update(accounts)
    .set({ ...profileImageChange(kind, cleared), updatedAt: now })
    .where(eq(accounts.id, accountId))
    .returning();
  await ctx.storage.delete(keys);
  return updated;
}
