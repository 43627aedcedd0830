import { eq } from 'drizzle-orm';
import { accounts, users } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { isIso6391 } from '../instance/languages.ts';
import {
  checkProfileImage,
  type ProfileImageKind,
  profileImageChange,
  profileImageKeys,
  storeProfileImage,
} from '../media/profile-images.ts';
import { isUploadedFile, type UploadedFile } from '../media/upload.ts';
import { castBoolean, tooLong, Validator } from '../validation.ts';
import type { AccountRecord, UserRecord } from './records.ts';

/**
 * The profile a user edits through `PATCH /api/v1/accounts/update_credentials` (Mastodon 4.5
 * limits, mastodon.md §8.2) and the posting/reading preferences kept in `users.settings` under
 * Mastodon's setting names.
 */
export const DISPLAY_NAME_MAX = 30;
export const NOTE_MAX = 500;
export const FIELDS_MAX = 4;
export const FIELD_TEXT_MAX = 255;
/** A URL in a bio counts as this many characters, as in statuses. */
const URL_LENGTH = 23;

export const PRIVACY_VALUES = ['public', 'unlisted', 'private'] as const;
export const QUOTE_POLICY_VALUES = ['public', 'followers', 'nobody'] as const;

export interface ProfileField {
  name: string;
  value: string;
  verified_at: string | null;
}

/** The stored fields of an account, tolerating rows written by hand. */
export function accountFields(account: AccountRecord): ProfileField[] {
  if (!Array.isArray(account.fields)) return [];
  return (account.fields as unknown[]).flatMap((f) => {
    if (typeof f !== 'object' || f === null) return [];
    const { name, value, verified_at } = f as Record<string, unknown>;
    return [
      {
        name: typeof name === 'string' ? name : '',
        value: typeof value === 'string' ? value : '',
        verified_at: typeof verified_at === 'string' ? verified_at : null,
      },
    ];
  });
}

/** User settings with Mastodon's defaults (UserSettings). */
export interface UserPreferences {
  defaultPrivacy: string;
  defaultSensitive: boolean;
  /** As set (null: not chosen). */
  defaultLanguage: string | null;
  defaultQuotePolicy: string;
  noindex: boolean;
  displayMedia: string;
  expandSpoilers: boolean;
  autoPlayGifs: boolean;
}

export function userPreferences(user: UserRecord, account: AccountRecord): UserPreferences {
  const s = (typeof user.settings === 'object' && user.settings !== null ? user.settings : {}) as Record<
    string,
    unknown
  >;
  const str = (key: string) => (typeof s[key] === 'string' ? (s[key] as string) : undefined);
  const bool = (key: string) => (typeof s[key] === 'boolean' ? (s[key] as boolean) : undefined);
  return {
    defaultPrivacy: str('default_privacy') ?? (account.locked ? 'private' : 'public'),
    defaultSensitive: bool('default_sensitive') ?? false,
    defaultLanguage: str('default_language') ?? null,
    defaultQuotePolicy: str('default_quote_policy') ?? 'public',
    noindex: bool('noindex') ?? false,
    displayMedia: str('web.display_media') ?? 'default',
    expandSpoilers: bool('web.expand_content_warnings') ?? false,
    autoPlayGifs: bool('web.auto_play') ?? false,
  };
}

/** The language new posts default to: the chosen one, else the interface's (Mastodon's cascade). */
export function postingLanguage(
  user: UserRecord,
  account: AccountRecord,
  defaultLocale: string,
): string | null {
  const chosen = userPreferences(user, account).defaultLanguage;
  for (const candidate of [chosen, user.locale, defaultLocale]) {
    const base = candidate?.split('-')[0]?.toLowerCase();
    if (base && isIso6391(base)) return base;
  }
  return null;
}

/** Characters of a bio as Mastodon counts them: graphemes, each URL as 23, `@user@domain` as `@user`. */
export function noteLength(text: string): number {
  const countable = text
    .replace(/https?:\/\/[^\s<>"]+/gi, 'x'.repeat(URL_LENGTH))
    .replace(/(@[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)@[\w.-]+/gi, '$1');
  let n = 0;
  for (const _ of new Intl.Segmenter().segment(countable)) n++;
  return n;
}

const codePoints = (s: string) => [...s].length;

type Params = Record<string, unknown>;

/** `fields_attributes` as a Rails hash (`fields_attributes[0][name]`) or a JSON array. */
function fieldEntries(raw: unknown): unknown[] | undefined {
  if (Array.isArray(raw)) return raw;
  if (typeof raw === 'object' && raw !== null) {
    return Object.keys(raw)
      .sort((a, b) => Number(a) - Number(b) || a.localeCompare(b))
      .map((k) => (raw as Record<string, unknown>)[k]);
  }
  return undefined;
}

/**
 * Applies what `params` changes (only the keys given), after checking all of it; returns the new
 * rows. Bad input changes nothing and is reported per field (422).
 */
export async function updateProfile(
  ctx: Context,
  current: { account: AccountRecord; user: UserRecord },
  params: Params,
): Promise<{ account: AccountRecord; user: UserRecord }> {
  const v = new Validator();
  const accountChange: Partial<AccountRecord> = {};
  const settingsChange: Record<string, unknown> = {};

  const text = (key: string, label: string, max: number, count: (s: string) => number, message: string) => {
    if (!(key in params)) return;
    const value = params[key] ?? '';
    if (typeof value !== 'string') {
      v.add(key, label, 'ERR_INVALID', 'must be a string');
      return;
    }
    if (count(value) > max) v.add(key, label, 'ERR_TOO_LONG', message);
    else (accountChange as Record<string, unknown>)[key === 'display_name' ? 'displayName' : key] = value;
  };
  text('display_name', 'Display name', DISPLAY_NAME_MAX, codePoints, tooLong(DISPLAY_NAME_MAX));
  text('note', 'Note', NOTE_MAX, noteLength, `character limit of ${NOTE_MAX} exceeded`);

  const flag = (key: string, label: string, column: keyof AccountRecord) => {
    if (!(key in params)) return;
    const value = castBoolean(params[key]);
    if (value === undefined && params[key] !== '' && params[key] !== null) {
      v.add(key, label, 'ERR_INVALID', 'must be true or false');
      return;
    }
    if (value !== undefined) (accountChange as Record<string, unknown>)[column] = value;
  };
  flag('locked', 'Locked', 'locked');
  flag('bot', 'Bot', 'bot');
  flag('discoverable', 'Discoverable', 'discoverable');
  flag('indexable', 'Indexable', 'indexable');
  flag('hide_collections', 'Hide collections', 'hideCollections');

  if ('fields_attributes' in params) {
    const entries = fieldEntries(params.fields_attributes);
    if (entries === undefined) {
      v.add('fields', 'Fields', 'ERR_INVALID', 'must be a list of name and value pairs');
    } else {
      const previous = accountFields(current.account);
      const fields: ProfileField[] = [];
      let bad = false;
      for (const entry of entries) {
        const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
        if (
          (e.name !== undefined && typeof e.name !== 'string') ||
          (e.value !== undefined && typeof e.value !== 'string')
        ) {
          bad = true;
          continue;
        }
        const name = ((e.name as string | undefined) ?? '').trim();
        const value = ((e.value as string | undefined) ?? '').trim();
        if (name === '' && value === '') continue;
        // A field whose value did not change keeps its link verification.
        const kept = previous.find((p) => p.value === value)?.verified_at ?? null;
        fields.push({ name, value, verified_at: kept });
      }
      if (bad) v.add('fields', 'Fields', 'ERR_INVALID', 'must be a list of name and value pairs');
      if (fields.length > FIELDS_MAX)
        v.add('fields', 'Fields', 'ERR_TOO_LONG', tooLong(FIELDS_MAX, 'fields'));
      if (fields.some((f) => codePoints(f.name) > FIELD_TEXT_MAX || codePoints(f.value) > FIELD_TEXT_MAX))
        v.add(
          'fields',
          'Fields',
          'ERR_TOO_LONG',
          `names and values are limited to ${FIELD_TEXT_MAX} characters`,
        );
      if (fields.some((f) => f.name === '' && f.value !== ''))
        v.add('fields', 'Fields', 'ERR_INVALID', 'contains values with missing labels');
      accountChange.fields = fields;
    }
  }

  // Avatar and header: a file part of a multipart body; an empty value leaves the image as it is.
  const images: { kind: ProfileImageKind; file: UploadedFile }[] = [];
  for (const kind of ['avatar', 'header'] as const) {
    const value = params[kind];
    if (value === undefined || value === null || value === '') continue;
    if (!isUploadedFile(value)) {
      v.add(kind, kind === 'avatar' ? 'Avatar' : 'Header', 'ERR_INVALID', 'must be an image file');
      continue;
    }
    checkProfileImage(v, kind, value);
    images.push({ kind, file: value });
  }

  if ('source' in params && params.source !== '' && params.source !== null) {
    const source = params.source;
    if (typeof source !== 'object' || Array.isArray(source)) {
      v.add('source', 'Source', 'ERR_INVALID', 'must be an object');
    } else {
      const s = source as Params;
      if ('privacy' in s) {
        if (typeof s.privacy === 'string' && (PRIVACY_VALUES as readonly string[]).includes(s.privacy))
          settingsChange.default_privacy = s.privacy;
        else v.add('source.privacy', 'Privacy', 'ERR_INCLUSION');
      }
      if ('sensitive' in s) {
        const value = castBoolean(s.sensitive);
        if (value === undefined)
          v.add('source.sensitive', 'Sensitive', 'ERR_INVALID', 'must be true or false');
        else settingsChange.default_sensitive = value;
      }
      if ('language' in s) {
        const lang = s.language;
        if (lang === null || lang === '') settingsChange.default_language = null;
        else if (typeof lang === 'string' && isIso6391(lang)) settingsChange.default_language = lang;
        else v.add('source.language', 'Language', 'ERR_INVALID', 'must be an ISO 639-1 language code');
      }
      if ('quote_policy' in s) {
        if (
          typeof s.quote_policy === 'string' &&
          (QUOTE_POLICY_VALUES as readonly string[]).includes(s.quote_policy)
        )
          settingsChange.default_quote_policy = s.quote_policy;
        else v.add('source.quote_policy', 'Quote policy', 'ERR_INCLUSION');
      }
    }
  }
  v.check();

  // Processed and stored before the row changes; the old files go once it points at the new ones.
  const replaced: string[] = [];
  for (const { kind, file } of images) {
    const stored = await storeProfileImage(ctx, current.account.id, kind, file.path, { remote: false });
    Object.assign(accountChange, profileImageChange(kind, stored));
    replaced.push(...profileImageKeys(current.account, kind));
  }

  const now = new Date();
  const updated = await ctx.database.transaction(async (tx) => {
    let account = current.account;
    let user = current.user;
    if (Object.keys(accountChange).length > 0) {
      [account] = (await tx
        .update(accounts)
        .set({ ...accountChange, updatedAt: now })
        .where(eq(accounts.id, current.account.id))
        .returning()) as [AccountRecord];
    }
    if (Object.keys(settingsChange).length > 0) {
      const settings = { ...((user.settings as Record<string, unknown> | null) ?? {}) };
      for (const [key, value] of Object.entries(settingsChange)) {
        if (value === null) delete settings[key];
        else settings[key] = value;
      }
      [user] = (await tx
        .update(users)
        .set({ settings, updatedAt: now })
        .where(eq(users.id, current.user.id))
        .returning()) as [UserRecord];
    }
    // Issue 4: unlocking approves pending follow requests; federation sends an Update of the actor.
    return { account, user };
  });
  if (replaced.length > 0) await ctx.storage.delete(replaced);
  return updated;
}
