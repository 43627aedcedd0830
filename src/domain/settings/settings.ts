import { sql } from 'drizzle-orm';
import { settings as settingsTable } from '../../db/schema/settings.ts';
import type { Context } from '../context.ts';
import { DomainError } from '../errors.ts';

/**
 * Instance settings an admin changes at run time, one row per key in the `settings` table
 * (key → JSON value). A key without a row has its default. Every process reads them through a short
 * in-memory cache, so a change made by another process shows within CACHE_TTL_MS.
 */

export const REGISTRATIONS_MODES = ['open', 'approved', 'none'] as const;
export type RegistrationsMode = (typeof REGISTRATIONS_MODES)[number];

export interface InstanceSettings {
  site_title: string;
  /** Plain text, shown as the instance's description. */
  site_short_description: string;
  /** Markdown-ish text for the about page (`/api/v1/instance/extended_description`). */
  site_extended_description: string;
  site_contact_email: string;
  site_contact_username: string;
  registrations_mode: RegistrationsMode;
  closed_registrations_message: string;
  /** With `approved` registrations: whether the applicant must give a reason. */
  require_invite_text: boolean;
  /** The privacy policy (`/api/v1/instance/privacy_policy`); Mastodon's name for it. */
  site_terms: string;
  status_page_url: string;
  /**
   * OAuth's password grant: removed from Mastodon in 4.4, still used by command-line clients,
   * scripts and test harnesses. Accounts with two-factor authentication never get it.
   */
  oauth_password_grant: boolean;
}

export type SettingKey = keyof InstanceSettings;

export const SETTING_DEFAULTS: Readonly<InstanceSettings> = Object.freeze({
  site_title: 'Woolly',
  site_short_description: '',
  site_extended_description: '',
  site_contact_email: '',
  site_contact_username: '',
  registrations_mode: 'open',
  closed_registrations_message: '',
  require_invite_text: false,
  site_terms: '',
  status_page_url: '',
  oauth_password_grant: true,
});

export const SETTING_KEYS = Object.keys(SETTING_DEFAULTS) as SettingKey[];

const MAX_TEXT = 100_000;
const MAX_LINE = 1_000;

/** A refused setting value; the message names the key (the CLI prints it as is). */
const invalidSetting = (message: string) => new DomainError('unprocessable', message);

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTING_DEFAULTS, key);
}

type Validator = (key: string, value: unknown) => unknown;

const text =
  (max: number): Validator =>
  (key, value) => {
    if (typeof value !== 'string') throw invalidSetting(`${key} must be a string, got ${describe(value)}`);
    if (value.length > max) throw invalidSetting(`${key} is too long (at most ${max} characters)`);
    return value;
  };

const line =
  (max: number): Validator =>
  (key, value) => {
    const s = text(max)(key, value) as string;
    if (/[\r\n]/.test(s)) throw invalidSetting(`${key} must be a single line`);
    return s;
  };

const VALIDATORS: Record<SettingKey, Validator> = {
  site_title: (key, value) => {
    const s = line(MAX_LINE)(key, value) as string;
    if (s.trim() === '') throw invalidSetting(`${key} must not be empty`);
    return s;
  },
  site_short_description: text(MAX_TEXT),
  site_extended_description: text(MAX_TEXT),
  site_contact_email: (key, value) => {
    const s = line(MAX_LINE)(key, value) as string;
    if (s !== '' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s)) {
      throw invalidSetting(`${key} must be an email address (or empty), got ${JSON.stringify(s)}`);
    }
    return s;
  },
  site_contact_username: (key, value) => {
    const s = line(MAX_LINE)(key, value) as string;
    if (s !== '' && !/^[A-Za-z0-9_]+$/.test(s)) {
      throw invalidSetting(
        `${key} must be a local username (letters, digits, _) or empty, got ${JSON.stringify(s)}`,
      );
    }
    return s;
  },
  registrations_mode: (key, value) => {
    if (typeof value !== 'string' || !(REGISTRATIONS_MODES as readonly string[]).includes(value)) {
      throw invalidSetting(`${key} must be one of ${REGISTRATIONS_MODES.join(', ')}, got ${describe(value)}`);
    }
    return value;
  },
  closed_registrations_message: text(MAX_TEXT),
  oauth_password_grant: (key, value) => {
    if (typeof value !== 'boolean')
      throw invalidSetting(`${key} must be true or false, got ${describe(value)}`);
    return value;
  },
  require_invite_text: (key, value) => {
    if (typeof value !== 'boolean')
      throw invalidSetting(`${key} must be true or false, got ${describe(value)}`);
    return value;
  },
  site_terms: text(MAX_TEXT),
  status_page_url: (key, value) => {
    const s = line(MAX_LINE)(key, value) as string;
    if (s === '') return s;
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw invalidSetting(`${key} must be an http(s) URL (or empty), got ${JSON.stringify(s)}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw invalidSetting(`${key} must be an http(s) URL (or empty), got ${JSON.stringify(s)}`);
    }
    return s;
  },
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** Checks one value; throws an unprocessable DomainError naming the key when the key is unknown or the value wrong. */
export function validateSetting<K extends SettingKey>(key: K, value: unknown): InstanceSettings[K];
export function validateSetting(key: string, value: unknown): unknown;
export function validateSetting(key: string, value: unknown): unknown {
  if (!isSettingKey(key)) throw invalidSetting(`unknown setting ${key} (known: ${SETTING_KEYS.join(', ')})`);
  return VALIDATORS[key](key, value);
}

/**
 * Turns a value typed on a command line into the setting's type: `true`/`false` for booleans, the
 * text itself for strings. The result is then validated like any other value.
 */
export function parseSettingText(key: string, raw: string): unknown {
  if (!isSettingKey(key)) throw invalidSetting(`unknown setting ${key} (known: ${SETTING_KEYS.join(', ')})`);
  if (typeof SETTING_DEFAULTS[key] === 'boolean') {
    const lowered = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(lowered)) return true;
    if (['false', '0', 'no', 'off'].includes(lowered)) return false;
    throw invalidSetting(`${key} must be true or false, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/** What the settings functions need: only the database. */
export type SettingsDeps = Pick<Context, 'database'>;

interface Snapshot {
  values: InstanceSettings;
  /** When each stored key was last changed; absent keys have never been set. */
  updatedAt: Partial<Record<SettingKey, Date>>;
  expiresAt: number;
}

export const CACHE_TTL_MS = 5_000;

/** Keyed by the database, so several instances in one process (tests) never share settings. */
const cache = new WeakMap<object, Promise<Snapshot>>();

async function load(deps: SettingsDeps): Promise<Snapshot> {
  const rows = await deps.database.query<{ key: string; value: unknown; updated_at: Date | string }>(
    'select key, value, updated_at from settings',
  );
  const values: InstanceSettings = { ...SETTING_DEFAULTS };
  const updatedAt: Partial<Record<SettingKey, Date>> = {};
  for (const row of rows) {
    if (!isSettingKey(row.key)) continue; // another feature's (or a newer version's) setting
    try {
      (values as unknown as Record<string, unknown>)[row.key] = validateSetting(row.key, row.value);
      updatedAt[row.key] = new Date(row.updated_at);
    } catch {
      // A stored value this version cannot use (edited by hand, or from another version): keep the default.
    }
  }
  return { values, updatedAt, expiresAt: Date.now() + CACHE_TTL_MS };
}

async function snapshot(deps: SettingsDeps): Promise<Snapshot> {
  const key = deps.database;
  const cached = cache.get(key);
  if (cached !== undefined) {
    const snap = await cached.catch(() => undefined);
    if (snap !== undefined && snap.expiresAt > Date.now()) return snap;
    if (cache.get(key) !== cached) return snapshot(deps); // someone else already refreshed it
  }
  const fresh = load(deps);
  cache.set(key, fresh);
  try {
    return await fresh;
  } catch (error) {
    if (cache.get(key) === fresh) cache.delete(key);
    throw error;
  }
}

/** The current settings (defaults filled in); at most CACHE_TTL_MS old. */
export async function getSettings(deps: SettingsDeps): Promise<InstanceSettings> {
  return { ...(await snapshot(deps)).values };
}

/** When a setting was last changed, or null when it has its default and was never set. */
export async function settingUpdatedAt(deps: SettingsDeps, key: SettingKey): Promise<Date | null> {
  return (await snapshot(deps)).updatedAt[key] ?? null;
}

/** Forgets this process's cached copy, so the next read sees the database. */
export function invalidateSettingsCache(deps: SettingsDeps): void {
  cache.delete(deps.database);
}

/**
 * Validates every given value first (nothing is written when one is wrong: the thrown DomainError
 * names the key), then stores them all in one transaction. Returns the settings after the change.
 */
export async function updateSettings(
  deps: SettingsDeps,
  partial: Record<string, unknown>,
): Promise<InstanceSettings> {
  if (partial === null || typeof partial !== 'object' || Array.isArray(partial)) {
    throw invalidSetting('settings must be given as an object of key → value');
  }
  const entries: [SettingKey, unknown][] = [];
  for (const [key, value] of Object.entries(partial)) {
    entries.push([key as SettingKey, validateSetting(key, value)]);
  }
  if (entries.length > 0) {
    await deps.database.transaction(async (tx) => {
      for (const [key, value] of entries) {
        // Sent as text and cast, so neither driver re-encodes the JSON.
        await tx.execute(
          sql`insert into ${settingsTable} (key, value, updated_at) values (${key}, ${JSON.stringify(value)}::text::jsonb, now())
              on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at`,
        );
      }
    });
  }
  invalidateSettingsCache(deps);
  return getSettings(deps);
}
