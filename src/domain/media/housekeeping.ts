import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, ne, or, type SQL, sql } from 'drizzle-orm';
import { isId } from '../../db/ids.ts';
import { accounts, mediaAttachments, statuses } from '../../db/schema/index.ts';
import { assertValidPrefix, InvalidStorageKeyError, type ListedObject } from '../../infra/storage/storage.ts';
import type { Context } from '../context.ts';
import { DomainError } from '../errors.ts';
import { accountUrl, localStatusUris } from '../uris.ts';
import type { MediaContext } from './processor.ts';

/**
 * Media housekeeping, tootctl media's work and Mastodon's media vacuum: unattached uploads, the
 * cache of remote files, files no row refers to, and where the bytes are. Every function reports
 * what it removed (or, in a dry run, would remove) as counts, and its progress through `onProgress`.
 *
 * Rows are changed before files are deleted, each change re-checking the row in its statement: an
 * upload attached meanwhile, or a remote file fetched again meanwhile, is left alone. A failure
 * between the two leaves files no row refers to, which `removeOrphans` finds; the reverse order
 * could leave rows pointing at files that are gone.
 */
export type HousekeepingContext = MediaContext;

export interface HousekeepingCounts {
  /** Stored files removed. */
  files: number;
  /** Their bytes: exact for orphans; from the rows' sizes otherwise (the `small` preview has none). */
  bytes: number;
  /** Rows deleted or changed. */
  records: number;
}

/** `total` is null while unknown (a storage listing). */
export type ProgressCallback = (done: number, total: number | null) => void;

export interface HousekeepingOptions {
  /** Count what would go, change nothing. */
  dryRun?: boolean;
  onProgress?: ProgressCallback;
}

const BATCH = 500;

const none = (): HousekeepingCounts => ({ files: 0, bytes: 0, records: 0 });

/** How long an unattached upload is kept (Mastodon's MediaAttachmentsVacuum TTL). */
export const UNATTACHED_UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;

// ---------------------------------------------------------------------------------------------
// Unattached uploads

/**
 * Deletes local uploads never attached to a status or a scheduled status, created before
 * `olderThan`, with their files. Mastodon does this daily for uploads older than a day.
 */
export async function removeUnattachedUploads(
  ctx: HousekeepingContext,
  options: HousekeepingOptions & { olderThan: Date },
): Promise<HousekeepingCounts> {
  const olderThan = checkDate(options.olderThan);
  const m = mediaAttachments;
  const unattached = and(
    eq(m.remoteUrl, ''),
    isNull(m.statusId),
    isNull(m.scheduledStatusId),
    lt(m.createdAt, olderThan),
  ) as SQL;
  const total = await countWhere(ctx, unattached);
  const counts = none();
  let done = 0;
  const pages = pagesById((after) =>
    ctx.database.db
      .select(attachmentFiles)
      .from(m)
      .where(and(unattached, gt(m.id, after)))
      .orderBy(asc(m.id))
      .limit(BATCH),
  );
  for await (const rows of pages) {
    let gone = rows;
    if (!options.dryRun) {
      // The same conditions again, in the delete itself: an upload attached since the select stays.
      const deleted = await ctx.database.db
        .delete(m)
        .where(
          and(
            inArray(
              m.id,
              rows.map((r) => r.id),
            ),
            unattached,
          ),
        )
        .returning({ id: m.id });
      const ids = new Set(deleted.map((r) => r.id));
      gone = rows.filter((r) => ids.has(r.id));
      await deleteFiles(ctx, gone.flatMap(attachmentKeys), 'unattached uploads');
    }
    addAttachments(counts, gone);
    done += rows.length;
    options.onProgress?.(done, Math.max(total, done));
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Remote media cache

export interface RemoteCacheOptions extends HousekeepingOptions {
  olderThan: Date;
  /** Remote accounts' avatars and headers instead of attachments. */
  pruneProfiles?: boolean;
  /** Remote accounts' headers only, instead of attachments. */
  removeHeaders?: boolean;
  /** With pruneProfiles or removeHeaders: also accounts a local account follows or is followed by. */
  includeFollows?: boolean;
  /** Keep the files of statuses a local account favourited, bookmarked, boosted or replied to. */
  keepInteracted?: boolean;
}

/**
 * `tootctl media remove`: drops the cached copies of remote files. Attachments (the default):
 * remote ones created and last changed before `olderThan` lose their stored file, preview and
 * thumbnail; the rows and their remote URLs stay, so the files can be fetched again. With
 * `pruneProfiles` (avatars and headers) or `removeHeaders` (headers), remote accounts not changed
 * since `olderThan` lose their cached images instead; accounts with a follow to or from a local
 * account are kept unless `includeFollows`.
 */
export async function removeRemoteMediaCache(
  ctx: HousekeepingContext,
  options: RemoteCacheOptions,
): Promise<HousekeepingCounts> {
  const olderThan = checkDate(options.olderThan);
  if (options.pruneProfiles && options.removeHeaders) {
    throw new DomainError('unprocessable', 'pruneProfiles and removeHeaders cannot be combined');
  }
  if (options.includeFollows && !(options.pruneProfiles || options.removeHeaders)) {
    throw new DomainError('unprocessable', 'includeFollows applies only with pruneProfiles or removeHeaders');
  }
  if (options.pruneProfiles || options.removeHeaders) {
    return removeProfileCache(ctx, { ...options, olderThan, avatars: options.pruneProfiles === true });
  }
  return removeAttachmentCache(ctx, { ...options, olderThan });
}

async function removeAttachmentCache(
  ctx: HousekeepingContext,
  options: RemoteCacheOptions,
): Promise<HousekeepingCounts> {
  const m = mediaAttachments;
  const conditions: SQL[] = [
    ne(m.remoteUrl, ''),
    isNotNull(m.fileKey),
    lt(m.createdAt, options.olderThan),
    // A file fetched again lately (its row changed) is in use: Mastodon's vacuum keeps it too.
    lt(m.updatedAt, options.olderThan),
  ];
  if (options.keepInteracted) conditions.push(sql`not ${localInteraction(sql`${m.statusId}`)}`);
  const cached = and(...conditions) as SQL;
  const total = await countWhere(ctx, cached);
  const counts = none();
  let done = 0;
  const pages = pagesById((after) =>
    ctx.database.db
      .select(attachmentFiles)
      .from(m)
      .where(and(cached, gt(m.id, after)))
      .orderBy(asc(m.id))
      .limit(BATCH),
  );
  for await (const rows of pages) {
    let gone = rows;
    if (!options.dryRun) {
      // Only rows still holding the file we selected: one fetched again since has a new key.
      const cleared = await ctx.database.query<{ id: string }>(
        `update media_attachments m
            set file_key = null, small_key = null, thumbnail_key = null, file_updated_at = null
           from unnest($1::bigint[], $2::text[]) as v(id, file_key)
          where m.id = v.id and m.file_key = v.file_key and m.remote_url <> ''
          returning m.id::text as id`,
        [rows.map((r) => r.id), rows.map((r) => r.fileKey ?? '')],
      );
      const ids = new Set(cleared.map((r) => r.id));
      gone = rows.filter((r) => ids.has(r.id));
      await deleteFiles(ctx, gone.flatMap(attachmentKeys), 'remote media cache');
    }
    addAttachments(counts, gone);
    done += rows.length;
    options.onProgress?.(done, Math.max(total, done));
  }
  return counts;
}

/**
 * A status a local account interacted with (Mastodon's `without_local_interaction`): favourited
 * by a local account, bookmarked, or boosted or replied to by a local status.
 */
function localInteraction(statusId: SQL): SQL {
  return sql`(${statusId} is not null and (
    exists (select 1 from favourites f join accounts fa on fa.id = f.account_id
             where f.status_id = ${statusId} and fa.domain is null)
    or exists (select 1 from bookmarks b where b.status_id = ${statusId})
    or exists (select 1 from statuses r where r.in_reply_to_id = ${statusId} and r.local)
    or exists (select 1 from statuses r where r.reblog_of_id = ${statusId} and r.local)))`;
}

async function removeProfileCache(
  ctx: HousekeepingContext,
  options: RemoteCacheOptions & { avatars: boolean },
): Promise<HousekeepingCounts> {
  const a = accounts;
  const cachedImages = options.avatars
    ? or(
        isNotNull(a.avatarKey),
        isNotNull(a.avatarStaticKey),
        isNotNull(a.headerKey),
        isNotNull(a.headerStaticKey),
      )
    : or(isNotNull(a.headerKey), isNotNull(a.headerStaticKey));
  const conditions = [isNotNull(a.domain), lt(a.updatedAt, options.olderThan), cachedImages as SQL];
  if (!options.includeFollows) {
    conditions.push(
      sql`not exists (select 1 from follows f where f.account_id = ${a.id})`,
      sql`not exists (select 1 from follows f where f.target_account_id = ${a.id})`,
    );
  }
  const eligible = and(...conditions) as SQL;
  const [{ total } = { total: 0 }] = await ctx.database.db
    .select({ total: sql<number>`count(*)::int` })
    .from(a)
    .where(eligible);
  const counts = none();
  let done = 0;
  const pages = pagesById((after) =>
    ctx.database.db
      .select({
        id: a.id,
        avatarKey: a.avatarKey,
        avatarStaticKey: a.avatarStaticKey,
        avatarFileSize: a.avatarFileSize,
        headerKey: a.headerKey,
        headerStaticKey: a.headerStaticKey,
        headerFileSize: a.headerFileSize,
      })
      .from(a)
      .where(and(eligible, gt(a.id, after)))
      .orderBy(asc(a.id))
      .limit(BATCH),
  );
  for await (const rows of pages) {
    const keysOf = (r: (typeof rows)[number]) =>
      [r.headerKey, r.headerStaticKey, ...(options.avatars ? [r.avatarKey, r.avatarStaticKey] : [])].filter(
        (k): k is string => k !== null,
      );
    let gone = rows;
    if (!options.dryRun) {
      const avatarSet = options.avatars ? 'avatar_key = null, avatar_static_key = null,' : '';
      // Only accounts whose images are still the ones selected (not refreshed meanwhile).
      const cleared = await ctx.database.query<{ id: string }>(
        `update accounts a
            set ${avatarSet} header_key = null, header_static_key = null
           from unnest($1::bigint[], $2::text[], $3::text[]) as v(id, avatar_key, header_key)
          where a.id = v.id and a.domain is not null
            and coalesce(a.avatar_key, '') = v.avatar_key and coalesce(a.header_key, '') = v.header_key
          returning a.id::text as id`,
        [rows.map((r) => r.id), rows.map((r) => r.avatarKey ?? ''), rows.map((r) => r.headerKey ?? '')],
      );
      const ids = new Set(cleared.map((r) => r.id));
      gone = rows.filter((r) => ids.has(r.id));
      await deleteFiles(ctx, gone.flatMap(keysOf), 'remote profile images');
    }
    for (const r of gone) {
      counts.files += keysOf(r).length;
      counts.bytes +=
        (r.headerKey !== null ? (r.headerFileSize ?? 0) : 0) +
        (options.avatars && r.avatarKey !== null ? (r.avatarFileSize ?? 0) : 0);
      counts.records += 1;
    }
    done += rows.length;
    options.onProgress?.(done, Math.max(total, done));
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
// Orphans

/** The parts of storage that hold media: local files, and the cache of remote ones. */
export const MEDIA_PREFIXES = [
  'media_attachments/',
  'cache/media_attachments/',
  'accounts/',
  'cache/accounts/',
] as const;

export interface OrphanOptions extends HousekeepingOptions {
  /** Walk only keys starting with this (tootctl's --prefix); else the four media prefixes. */
  prefix?: string;
  /**
   * Objects modified at or after this are left alone: a file is stored before its row is written,
   * so a fresh one may belong to an upload still in progress. Defaults to an hour ago.
   */
  modifiedBefore?: Date;
  /** Told about each object removed, and each one that is not laid out as a media key (kept). */
  onObject?: (event: { key: string; size: number; outcome: 'orphan' | 'unrecognized' }) => void;
}

export interface OrphanCounts extends HousekeepingCounts {
  /** Objects looked at. */
  scanned: number;
  /** Objects whose key is not a media key (other data, or not ours): never removed. */
  unrecognized: number;
}

/**
 * `tootctl media remove-orphans`: walks storage and removes the files no row refers to, matching
 * each key against the row its path names (the id partition of `keys.ts`): attachments for
 * `media_attachments/files/…`, accounts for `accounts/avatars|headers/…`. Counts are exact bytes.
 */
export async function removeOrphans(
  ctx: HousekeepingContext,
  options: OrphanOptions = {},
): Promise<OrphanCounts> {
  const modifiedBefore = checkDate(options.modifiedBefore ?? new Date(Date.now() - 60 * 60 * 1000));
  if (options.prefix !== undefined) {
    try {
      assertValidPrefix(options.prefix);
    } catch (error) {
      if (error instanceof InvalidStorageKeyError) {
        throw new DomainError(
          'unprocessable',
          `Invalid prefix ${JSON.stringify(options.prefix)}: it ${error.reason}`,
        );
      }
      throw error;
    }
  }
  const prefixes = options.prefix === undefined ? [...MEDIA_PREFIXES] : [options.prefix];
  const counts: OrphanCounts = { ...none(), scanned: 0, unrecognized: 0 };
  let batch: ListedObject[] = [];
  const flush = async () => {
    const orphans = await findOrphans(ctx, batch, modifiedBefore, counts, options);
    batch = [];
    if (!options.dryRun && orphans.length > 0) await ctx.storage.delete(orphans.map((o) => o.key));
    for (const orphan of orphans) {
      counts.files += 1;
      counts.bytes += orphan.size;
      options.onObject?.({ key: orphan.key, size: orphan.size, outcome: 'orphan' });
    }
    options.onProgress?.(counts.scanned, null);
  };
  for (const prefix of prefixes) {
    for await (const object of ctx.storage.list(prefix)) {
      batch.push(object);
      if (batch.length >= BATCH) await flush();
    }
  }
  if (batch.length > 0) await flush();
  return counts;
}

async function findOrphans(
  ctx: HousekeepingContext,
  objects: ListedObject[],
  modifiedBefore: Date,
  counts: OrphanCounts,
  options: OrphanOptions,
): Promise<ListedObject[]> {
  const parsed: { object: ListedObject; key: ParsedMediaKey }[] = [];
  for (const object of objects) {
    counts.scanned += 1;
    const key = parseMediaKey(object.key);
    if (key === null) {
      counts.unrecognized += 1;
      options.onObject?.({ key: object.key, size: object.size, outcome: 'unrecognized' });
      continue;
    }
    if (object.lastModified.getTime() >= modifiedBefore.getTime()) continue;
    parsed.push({ object, key });
  }
  const inUse = await keysInUse(
    ctx,
    parsed.filter((p) => p.key.owner === 'media_attachment').map((p) => p.key.id),
    parsed.filter((p) => p.key.owner === 'account').map((p) => p.key.id),
  );
  return parsed.filter((p) => !inUse.has(p.object.key)).map((p) => p.object);
}

/** Every key the attachments and accounts of these ids refer to. */
async function keysInUse(
  ctx: HousekeepingContext,
  attachmentIds: string[],
  accountIds: string[],
): Promise<Set<string>> {
  const keys = new Set<string>();
  if (attachmentIds.length > 0) {
    const rows = await ctx.database.db
      .select(attachmentFiles)
      .from(mediaAttachments)
      .where(inArray(mediaAttachments.id, [...new Set(attachmentIds)]));
    for (const row of rows) for (const key of attachmentKeys(row)) keys.add(key);
  }
  if (accountIds.length > 0) {
    const rows = await ctx.database.db
      .select({
        avatarKey: accounts.avatarKey,
        avatarStaticKey: accounts.avatarStaticKey,
        headerKey: accounts.headerKey,
        headerStaticKey: accounts.headerStaticKey,
      })
      .from(accounts)
      .where(inArray(accounts.id, [...new Set(accountIds)]));
    for (const row of rows) {
      for (const key of [row.avatarKey, row.avatarStaticKey, row.headerKey, row.headerStaticKey]) {
        if (key !== null) keys.add(key);
      }
    }
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------
// Keys

export interface ParsedMediaKey {
  owner: 'media_attachment' | 'account';
  /** The attachment's or account's id. */
  id: string;
  /** `files`, `avatars` or `headers`. */
  attachment: 'files' | 'avatars' | 'headers';
  /** `original`, `small`, `static`, `thumbnail`… */
  style: string;
  /** Under `cache/`: a remote file. */
  cached: boolean;
}

const COLLECTIONS: Record<
  string,
  { owner: ParsedMediaKey['owner']; attachments: ParsedMediaKey['attachment'][] }
> = {
  media_attachments: { owner: 'media_attachment', attachments: ['files'] },
  accounts: { owner: 'account', attachments: ['avatars', 'headers'] },
};

/**
 * Reads a key laid out by `mediaKey` (keys.ts): `[cache/]collection/attachment/<id in groups of
 * three digits>/style/name`. Mastodon's older nine-digit partitions are read too. Null for any
 * other key.
 */
export function parseMediaKey(key: string): ParsedMediaKey | null {
  const segments = key.split('/');
  const cached = segments[0] === 'cache';
  if (cached) segments.shift();
  if (segments.length !== 7 && segments.length !== 10) return null;
  const [collection = '', attachment = ''] = segments;
  const known = Object.hasOwn(COLLECTIONS, collection) ? COLLECTIONS[collection] : undefined;
  if (known === undefined || !(known.attachments as string[]).includes(attachment)) return null;
  const groups = segments.slice(2, -2);
  if (!groups.every((g) => /^\d{3}$/.test(g))) return null;
  const id = groups.join('').replace(/^0+(?=\d)/, '');
  const name = segments.at(-1) ?? '';
  if (!isId(id) || name === '' || name.startsWith('.')) return null;
  return {
    owner: known.owner,
    id,
    attachment: attachment as ParsedMediaKey['attachment'],
    style: segments.at(-2) ?? '',
    cached,
  };
}

// ---------------------------------------------------------------------------------------------
// Usage

export interface UsageLine {
  /** Rows with a stored file. */
  count: number;
  bytes: number;
}

export interface MediaUsage {
  localAttachments: UsageLine;
  remoteAttachments: UsageLine;
  localAvatars: UsageLine;
  remoteAvatars: UsageLine;
  localHeaders: UsageLine;
  remoteHeaders: UsageLine;
}

/**
 * `tootctl media usage`: the bytes the rows account for, by kind, counting only files that are
 * stored (a remote attachment whose cache was removed counts nothing). Attachments count their file
 * and custom thumbnail, as Mastodon's `combined_media_file_size`.
 */
export async function mediaUsage(ctx: Pick<Context, 'database'>): Promise<MediaUsage> {
  const [media] = await ctx.database.query<Record<string, string>>(
    `select
       count(*) filter (where remote_url = '')::text as local_count,
       coalesce(sum(coalesce(file_size, 0) + coalesce(thumbnail_file_size, 0)) filter (where remote_url = ''), 0)::text as local_bytes,
       count(*) filter (where remote_url <> '')::text as remote_count,
       coalesce(sum(coalesce(file_size, 0) + coalesce(thumbnail_file_size, 0)) filter (where remote_url <> ''), 0)::text as remote_bytes
     from media_attachments where file_key is not null`,
  );
  const [profiles] = await ctx.database.query<Record<string, string>>(
    `select
       count(*) filter (where domain is null and avatar_key is not null)::text as local_avatar_count,
       coalesce(sum(avatar_file_size) filter (where domain is null and avatar_key is not null), 0)::text as local_avatar_bytes,
       count(*) filter (where domain is not null and avatar_key is not null)::text as remote_avatar_count,
       coalesce(sum(avatar_file_size) filter (where domain is not null and avatar_key is not null), 0)::text as remote_avatar_bytes,
       count(*) filter (where domain is null and header_key is not null)::text as local_header_count,
       coalesce(sum(header_file_size) filter (where domain is null and header_key is not null), 0)::text as local_header_bytes,
       count(*) filter (where domain is not null and header_key is not null)::text as remote_header_count,
       coalesce(sum(header_file_size) filter (where domain is not null and header_key is not null), 0)::text as remote_header_bytes
     from accounts where avatar_key is not null or header_key is not null`,
  );
  const line = (row: Record<string, string> | undefined, name: string): UsageLine => ({
    count: Number(row?.[`${name}_count`] ?? 0),
    bytes: Number(row?.[`${name}_bytes`] ?? 0),
  });
  return {
    localAttachments: line(media, 'local'),
    remoteAttachments: line(media, 'remote'),
    localAvatars: line(profiles, 'local_avatar'),
    remoteAvatars: line(profiles, 'remote_avatar'),
    localHeaders: line(profiles, 'local_header'),
    remoteHeaders: line(profiles, 'remote_header'),
  };
}

// ---------------------------------------------------------------------------------------------
// Lookup

export type MediaLookup =
  | {
      key: string;
      kind: 'media_attachment';
      attachmentId: string;
      accountId: string;
      /** Which of the row's files the key is; null when the row no longer refers to it. */
      file: 'file' | 'small' | 'thumbnail' | null;
      statusId: string | null;
      scheduledStatusId: string | null;
      /** The page of the status it is attached to, when it is. */
      statusUrl: string | null;
    }
  | {
      key: string;
      kind: 'account';
      accountId: string;
      acct: string;
      file: 'avatar' | 'avatar_static' | 'header' | 'header_static' | null;
      /** The account's profile page. */
      accountUrl: string;
    };

/**
 * `tootctl media lookup URL`: which attachment or account a media URL belongs to. The URL may be
 * any this instance gave out (local, CDN_HOST, the bucket or S3_ALIAS_HOST, older hosts alike): the
 * key is read from the end of its path, as Mastodon does.
 */
export async function lookupMedia(ctx: HousekeepingContext, url: string): Promise<MediaLookup> {
  const key = keyOfUrl(url);
  const parsed = key === null ? null : parseMediaKey(key);
  if (key === null || parsed === null) throw new DomainError('unprocessable', 'Not a media URL');
  if (parsed.owner === 'media_attachment') {
    const [row] = await ctx.database.db
      .select({
        ...attachmentFiles,
        accountId: mediaAttachments.accountId,
        statusId: mediaAttachments.statusId,
        scheduledStatusId: mediaAttachments.scheduledStatusId,
      })
      .from(mediaAttachments)
      .where(eq(mediaAttachments.id, parsed.id));
    if (row === undefined) throw new DomainError('not_found', `No media attachment ${parsed.id}`);
    const file =
      row.fileKey === key
        ? 'file'
        : row.smallKey === key
          ? 'small'
          : row.thumbnailKey === key
            ? 'thumbnail'
            : null;
    return {
      key,
      kind: 'media_attachment',
      attachmentId: row.id,
      accountId: row.accountId,
      file,
      statusId: row.statusId,
      scheduledStatusId: row.scheduledStatusId,
      statusUrl: row.statusId === null ? null : await statusPage(ctx, row.statusId),
    };
  }
  const [account] = await ctx.database.db.select().from(accounts).where(eq(accounts.id, parsed.id));
  if (account === undefined) throw new DomainError('not_found', `No account ${parsed.id}`);
  const file =
    account.avatarKey === key
      ? 'avatar'
      : account.avatarStaticKey === key
        ? 'avatar_static'
        : account.headerKey === key
          ? 'header'
          : account.headerStaticKey === key
            ? 'header_static'
            : null;
  return {
    key,
    kind: 'account',
    accountId: account.id,
    acct: account.domain === null ? account.username : `${account.username}@${account.domain}`,
    file,
    accountUrl: accountUrl(ctx.config, account),
  };
}

/** The storage key at the end of a media URL's path (or of a path, or of a key), else null. */
export function keyOfUrl(url: string): string | null {
  let path: string;
  try {
    path = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? new URL(url).pathname : url.split(/[?#]/)[0]!;
  } catch {
    throw new DomainError('unprocessable', 'Invalid URL');
  }
  let segments: string[];
  try {
    segments = path
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
  } catch {
    throw new DomainError('unprocessable', 'Invalid URL');
  }
  // From the end: a bucket, a key prefix or PAPERCLIP_ROOT_URL may come before the key.
  for (const length of [10, 7]) {
    if (segments.length < length) continue;
    const tail = segments.slice(-length);
    const withCache = segments.at(-length - 1) === 'cache' ? ['cache', ...tail] : tail;
    const key = withCache.join('/');
    if (parseMediaKey(key) !== null) return key;
  }
  return null;
}

async function statusPage(ctx: HousekeepingContext, statusId: string): Promise<string | null> {
  const [status] = await ctx.database.db
    .select({
      id: statuses.id,
      local: statuses.local,
      url: statuses.url,
      uri: statuses.uri,
      username: accounts.username,
    })
    .from(statuses)
    .innerJoin(accounts, eq(accounts.id, statuses.accountId))
    .where(eq(statuses.id, statusId));
  if (status === undefined) return null;
  return status.local
    ? localStatusUris(ctx.config, status.username, status.id).url
    : (status.url ?? status.uri);
}

// ---------------------------------------------------------------------------------------------
// Shared

/** Rows in id order, a page at a time (keyset paging: each page starts after the last id seen). */
async function* pagesById<T extends { id: string }>(
  page: (after: string) => Promise<T[]>,
): AsyncIterable<T[]> {
  let after = '0';
  for (;;) {
    const rows = await page(after);
    const last = rows.at(-1);
    if (last === undefined) return;
    yield rows;
    after = last.id;
  }
}

const attachmentFiles = {
  id: mediaAttachments.id,
  fileKey: mediaAttachments.fileKey,
  smallKey: mediaAttachments.smallKey,
  thumbnailKey: mediaAttachments.thumbnailKey,
  fileSize: mediaAttachments.fileSize,
  thumbnailFileSize: mediaAttachments.thumbnailFileSize,
};

type AttachmentFiles = { fileKey: string | null; smallKey: string | null; thumbnailKey: string | null };

function attachmentKeys(row: AttachmentFiles): string[] {
  return [row.fileKey, row.smallKey, row.thumbnailKey].filter((k): k is string => k !== null);
}

function addAttachments(
  counts: HousekeepingCounts,
  rows: (AttachmentFiles & { fileSize: number | null; thumbnailFileSize: number | null })[],
): void {
  for (const row of rows) {
    counts.files += attachmentKeys(row).length;
    counts.bytes +=
      (row.fileKey !== null ? (row.fileSize ?? 0) : 0) +
      (row.thumbnailKey !== null ? (row.thumbnailFileSize ?? 0) : 0);
    counts.records += 1;
  }
}

async function countWhere(ctx: HousekeepingContext, where: SQL): Promise<number> {
  const [{ total } = { total: 0 }] = await ctx.database.db
    .select({ total: sql<number>`count(*)::int` })
    .from(mediaAttachments)
    .where(where);
  return total;
}

/** Deletes files whose rows are already gone or cleared; a failure is logged with the keys left. */
async function deleteFiles(ctx: HousekeepingContext, keys: string[], what: string): Promise<void> {
  if (keys.length === 0) return;
  try {
    await ctx.storage.delete(keys);
  } catch (error) {
    // The rows no longer refer to these files: `woolly media remove-orphans` will find them.
    ctx.log.error({ err: error, keys }, `media housekeeping: could not delete the files of ${what}`);
    throw error;
  }
}

function checkDate(date: Date): Date {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new DomainError('unprocessable', 'expected a valid date');
  }
  return date;
}

/** A remote account's id from its `user@domain` (as tootctl's --account takes it). */
export async function remoteAccountId(
  ctx: Pick<Context, 'database'>,
  acct: string,
): Promise<string | undefined> {
  const [username, domain] = acct.replace(/^@/, '').split('@');
  if (!username || !domain) return undefined;
  const [row] = await ctx.database.db
    .select({ id: accounts.id })
    .from(accounts)
    .where(
      and(
        sql`lower(${accounts.username}) = ${username.toLowerCase()}`,
        sql`lower(${accounts.domain}) = ${domain.toLowerCase()}`,
      ),
    );
  return row?.id;
}
