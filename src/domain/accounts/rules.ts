import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import { accounts, users } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import { tooLong, tooShort, type Validator } from '../validation.ts';
import { PASSWORD_MAX, PASSWORD_MIN } from './passwords.ts';

/**
 * The rules a local account's username, e-mail and password follow (Mastodon 4.5: Account and
 * User validations, Devise's validatable), shared by sign-up, `woolly accounts` and e-mail changes.
 */

export const USERNAME_MAX = 30;
const USERNAME_FORMAT = /^[a-z0-9_]+$/i;

/**
 * Mastodon's seeded username blocks (db/seeds/05_blocked_usernames.rb): names refused outright, and
 * words refused anywhere in a name. Both compare after folding case and the digit look-alikes
 * Mastodon folds (`adm1n` is `admin`).
 */
const RESERVED_EXACT = new Set([
  'abuse',
  'account',
  'accounts',
  'admin',
  'administration',
  'administrator',
  'admins',
  'help',
  'helpdesk',
  'instance',
  'mod',
  'moderator',
  'moderators',
  'mods',
  'owner',
  'root',
  'security',
  'server',
  'staff',
  'support',
  'webmaster',
]);
const RESERVED_WORDS = ['mastodon', 'mastadon'];
const HOMOGLYPHS: Record<string, string> = {
  '1': 'i',
  '2': 'z',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '8': 'b',
  '9': 'g',
  '0': 'o',
};

export function isReservedUsername(username: string): boolean {
  const folded = username.toLowerCase().replace(/[0-9]/g, (d) => HOMOGLYPHS[d] ?? d);
  return (
    RESERVED_EXACT.has(folded) ||
    RESERVED_EXACT.has(username.toLowerCase()) ||
    RESERVED_WORDS.some((w) => folded.includes(w))
  );
}

/** Mastodon's interface locales (config/initializers/i18n.rb); anything else is dropped, as there. */
export const AVAILABLE_LOCALES: ReadonlySet<string> = new Set(
  (
    'af an ar ast be bg bn br bs ca ckb co cs cy da de el en en-GB eo es es-AR es-MX et eu fa fi fo fr ' +
    'fr-CA fy ga gd gl he hi hr hu hy ia id ie ig io is it ja ka kab kk kn ko ku kw la lt lv mk ml mr ms ' +
    'my nl nn no oc pa pl pt-BR pt-PT ro ru sa sc sco si sk sl sq sr sr-Latn sv szl ta te th tr tt ug uk ' +
    'ur vi zgh zh-CN zh-HK zh-TW'
  ).split(' '),
);

/** An available locale, or null (Mastodon's `normalizes :locale`). */
export function normalizeLocale(value: unknown): string | null {
  return typeof value === 'string' && AVAILABLE_LOCALES.has(value) ? value : null;
}

// Local part: RFC 5322 atext with dots; domain: DNS labels (a single label such as `localhost` is
// allowed, as Mastodon allows it).
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const EMAIL_FORMAT = new RegExp(
  `^[A-Za-z0-9!#$%&'*+/=?^_\`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_\`{|}~-]+)*@${LABEL}(?:\\.${LABEL})*$`,
);

/** E-mail addresses are kept trimmed and lower-cased (Devise's case_insensitive_keys, strip_whitespace_keys). */
export function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}

export function isValidEmail(email: string): boolean {
  return email.length <= 254 && EMAIL_FORMAT.test(email);
}

const LABELS = {
  username: 'Username',
  email: 'E-mail address',
  password: 'Password',
  agreement: 'Service agreement',
  reason: 'Reason',
} as const;

type Db = Pick<Context, 'database'>;

/** Username checks; uniqueness (local accounts, without regard to case) is looked up. */
export async function checkUsername(ctx: Db, v: Validator, raw: unknown, field = 'username'): Promise<void> {
  const username = typeof raw === 'string' ? raw : '';
  if (username.trim() === '') {
    v.add(field, LABELS.username, 'ERR_BLANK');
    return;
  }
  if (await usernameTaken(ctx, username)) v.add(field, LABELS.username, 'ERR_TAKEN');
  if (!USERNAME_FORMAT.test(username))
    v.add(field, LABELS.username, 'ERR_INVALID', 'must contain only letters, numbers and underscores');
  if ([...username].length > USERNAME_MAX)
    v.add(field, LABELS.username, 'ERR_TOO_LONG', tooLong(USERNAME_MAX));
  if (isReservedUsername(username)) v.add(field, LABELS.username, 'ERR_RESERVED');
}

export async function usernameTaken(ctx: Db, username: string): Promise<boolean> {
  const rows = await ctx.database.db
    .select({ id: accounts.id })
    .from(accounts)
    .where(and(sql`lower(${accounts.username}) = ${username.toLowerCase()}`, isNull(accounts.domain)))
    .limit(1);
  return rows.length > 0;
}

/** E-mail checks on a normalized address; `exceptUserId` is the user changing their own. */
export async function checkEmail(
  ctx: Db,
  v: Validator,
  email: string,
  options: { field?: string; exceptUserId?: string } = {},
): Promise<void> {
  const field = options.field ?? 'email';
  if (email === '') {
    v.add(field, LABELS.email, 'ERR_BLANK');
    return;
  }
  if (!isValidEmail(email)) {
    v.add(field, LABELS.email, 'ERR_INVALID');
    return;
  }
  if (await emailTaken(ctx, email, options.exceptUserId)) v.add(field, LABELS.email, 'ERR_TAKEN');
}

export async function emailTaken(ctx: Db, email: string, exceptUserId?: string): Promise<boolean> {
  const conditions = [sql`lower(${users.email}) = ${email.toLowerCase()}`];
  if (exceptUserId !== undefined) conditions.push(ne(users.id, exceptUserId));
  const rows = await ctx.database.db
    .select({ id: users.id })
    .from(users)
    .where(and(...conditions))
    .limit(1);
  return rows.length > 0;
}

export function checkPassword(v: Validator, raw: unknown, field = 'password'): void {
  const password = typeof raw === 'string' ? raw : '';
  if (password === '') {
    v.add(field, LABELS.password, 'ERR_BLANK');
    return;
  }
  // bcrypt reads 72 bytes: the limit is in bytes so that no character past it is silently ignored.
  const length = Buffer.byteLength(password, 'utf8');
  if ([...password].length < PASSWORD_MIN)
    v.add(field, LABELS.password, 'ERR_TOO_SHORT', tooShort(PASSWORD_MIN));
  else if (length > PASSWORD_MAX) v.add(field, LABELS.password, 'ERR_TOO_LONG', tooLong(PASSWORD_MAX));
}

export { LABELS as FIELD_LABELS };

/** The local account with this username (case-insensitive), with its user. */
export async function findLocalAccountByUsername(ctx: Db, username: string) {
  const [row] = await ctx.database.db
    .select({ account: accounts, user: users })
    .from(accounts)
    .innerJoin(users, eq(users.accountId, accounts.id))
    .where(and(sql`lower(${accounts.username}) = ${username.toLowerCase()}`, isNull(accounts.domain)))
    .limit(1);
  return row;
}
