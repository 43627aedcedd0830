import type { Config } from '../../config/config.ts';
import type { AccountRecord } from '../accounts/records.ts';
import { STATUS_LIMITS } from '../limits.ts';
import { escapeHtml } from '../text/html.ts';
import { accountUrl, tagUrl } from '../uris.ts';

/**
 * Status text as Mastodon handles local posts: entity extraction (links, hashtags, mentions, as its
 * Extractor with Tag::HASHTAG_RE and Account::MENTION_RE), the length rule (StatusLengthValidator)
 * and the HTML rendering (TextFormatter + Rails' simple_format).
 */

export type Entity =
  | { kind: 'url'; start: number; end: number; url: string }
  | { kind: 'hashtag'; start: number; end: number; hashtag: string }
  | {
      kind: 'mention';
      start: number;
      end: number;
      username: string;
      domain: string | null;
      screenName: string;
    };

// Ruby's [[:word:]] and [[:alpha:]] in Unicode terms.
const WORD = '\\p{L}\\p{M}\\p{Nd}\\p{Pc}';
const ALPHA = '\\p{Alphabetic}';
const SEPARATORS = '_\\u00B7\\u30FB\\u200C';
const FIRST_CHUNK_ONE = `[${WORD}_][${WORD}${SEPARATORS}]*[${ALPHA}${SEPARATORS}]`;
const FIRST_CHUNK_TWO = `[${WORD}${SEPARATORS}]*[${WORD}_]`;
const HASHTAG_NAME = `(?:${FIRST_CHUNK_ONE}${FIRST_CHUNK_TWO})|(?:[${WORD}_]*[${ALPHA}][${WORD}_]*)`;
const HASHTAG_RE = new RegExp(`(?<=^|\\s)[#＃](${HASHTAG_NAME})`, 'gu');
const HASHTAG_NAME_RE = new RegExp(`^(?:${HASHTAG_NAME})$`, 'u');

const USERNAME = '[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*';
const MENTION_RE = new RegExp(
  `(?<![=/${WORD}])@((${USERNAME})(?:@([${WORD}]+(?:[.-]+[${WORD}]+)*))?)`,
  'giu',
);

// A link starts with its scheme, not glued to a word, @, $ or #; it runs to whitespace or a
// character that cannot be in a URL, then loses trailing punctuation (as Twitter's extractor).
const URL_RE = /(?<![\p{L}\p{N}@＠$#＃/])https?:\/\/[^\s<>"\u3000]+/giu;
const TRAILING_PUNCTUATION = /[.,:;!?'"…)\]}*]$/u;

function trimUrl(candidate: string): string {
  let url = candidate;
  for (;;) {
    if (!TRAILING_PUNCTUATION.test(url)) break;
    const last = url.at(-1);
    // A closing bracket stays when it closes one opened inside the URL (Wikipedia links).
    if (last === ')' && count(url, '(') >= count(url, ')')) break;
    if (last === ']' && count(url, '[') >= count(url, ']')) break;
    url = url.slice(0, -1);
  }
  return url;
}

const count = (s: string, c: string) => s.split(c).length - 1;

function validHost(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (
      /\p{L}|\p{N}/u.test(parsed.hostname) &&
      (parsed.hostname.includes('.') || parsed.hostname === 'localhost')
    );
  } catch {
    return false;
  }
}

export function extractUrls(text: string): Entity[] {
  const found: Entity[] = [];
  for (const match of text.matchAll(URL_RE)) {
    const url = trimUrl(match[0]);
    if (!validHost(url)) continue;
    found.push({ kind: 'url', start: match.index, end: match.index + url.length, url });
  }
  return found;
}

export function extractHashtags(text: string): Entity[] {
  const found: Entity[] = [];
  for (const match of text.matchAll(HASHTAG_RE)) {
    const hashtag = match[1] ?? '';
    found.push({ kind: 'hashtag', start: match.index, end: match.index + match[0].length, hashtag });
  }
  return found;
}

export function extractMentions(text: string): Entity[] {
  const found: Entity[] = [];
  for (const match of text.matchAll(MENTION_RE)) {
    const screenName = match[1] ?? '';
    found.push({
      kind: 'mention',
      start: match.index,
      end: match.index + match[0].length,
      username: match[2] ?? '',
      domain: match[3] ?? null,
      screenName,
    });
  }
  return found;
}

/** Entities sorted by position, the later of two overlapping ones dropped (a # inside a link). */
function withoutOverlaps(entities: Entity[]): Entity[] {
  const sorted = [...entities].sort((a, b) => a.start - b.start);
  const kept: Entity[] = [];
  for (const e of sorted) {
    const prev = kept.at(-1);
    if (prev && e.start < prev.end) continue;
    kept.push(e);
  }
  return kept;
}

export function extractEntities(text: string): Entity[] {
  return withoutOverlaps([...extractUrls(text), ...extractHashtags(text), ...extractMentions(text)]);
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export function graphemeLength(text: string): number {
  let n = 0;
  for (const _ of segmenter.segment(text)) n++;
  return n;
}

/**
 * The length Mastodon counts for a local status: graphemes of the content warning plus the text,
 * every link as 23 characters, a remote mention as its local part (`@user`).
 */
export function countableLength(text: string, spoilerText: string): number {
  const entities = withoutOverlaps([...extractUrls(text), ...extractMentions(text)]);
  let countable = '';
  let index = 0;
  for (const e of entities) {
    countable += text.slice(index, e.start);
    countable +=
      e.kind === 'url'
        ? 'x'.repeat(STATUS_LIMITS.charactersReservedPerUrl)
        : e.kind === 'mention'
          ? `@${e.username}`
          : '';
    index = e.end;
  }
  countable += text.slice(index);
  return graphemeLength(spoilerText) + graphemeLength(countable);
}

/** Mastodon's hashtag normalisation, for lookups and uniqueness: NFKC, lower case. */
export function normalizeHashtag(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

export function isValidHashtag(name: string): boolean {
  return HASHTAG_NAME_RE.test(name);
}

/** The distinct hashtags of a text, first spelling kept, by normalised name. */
export function hashtagsOf(text: string): { name: string; displayName: string }[] {
  const seen = new Map<string, string>();
  for (const e of extractEntities(text)) {
    if (e.kind !== 'hashtag') continue;
    const name = normalizeHashtag(e.hashtag);
    if (!seen.has(name)) seen.set(name, e.hashtag);
  }
  return [...seen].map(([name, displayName]) => ({ name, displayName }));
}

/** The distinct mentions of a text (username, and domain when written). */
export function mentionsOf(text: string): { username: string; domain: string | null }[] {
  const seen = new Map<string, { username: string; domain: string | null }>();
  for (const e of extractEntities(text)) {
    if (e.kind !== 'mention') continue;
    const key = `${e.username.toLowerCase()}@${(e.domain ?? '').toLowerCase()}`;
    if (!seen.has(key)) seen.set(key, { username: e.username, domain: e.domain });
  }
  return [...seen.values()];
}

/** A link with Mastodon's invisible scheme and ellipsis after 30 visible characters. */
export function shortenedLink(url: string): string {
  const prefix = /^(https?:\/\/(www\.)?|xmpp:)/i.exec(url)?.[0] ?? '';
  const rest = url.slice(prefix.length);
  let display = rest.slice(0, 30);
  let suffix = rest.slice(30);
  let cutoff = rest.length > 30;
  // One cut character would cost as much as the ellipsis: show it instead.
  if (suffix.length === 1) {
    display += suffix;
    suffix = '';
    cutoff = false;
  }
  return (
    `<a href="${escapeHtml(url)}" target="_blank" rel="nofollow noopener" translate="no">` +
    `<span class="invisible">${escapeHtml(prefix)}</span>` +
    `<span class="${cutoff ? 'ellipsis' : ''}">${escapeHtml(display)}</span>` +
    `<span class="invisible">${escapeHtml(suffix)}</span></a>`
  );
}

export function isLocalDomain(domain: string | null, config: Config): boolean {
  if (domain === null) return true;
  const d = domain.toLowerCase();
  return d === config.localDomain.toLowerCase() || d === config.webDomain.toLowerCase();
}

/**
 * The HTML of a local status. `mentioned` are the accounts the status mentions: a mention of one
 * of them becomes an h-card link, any other stays text (an unknown or, until federation, remote
 * account).
 */
export function renderStatusHtml(text: string, config: Config, mentioned: readonly AccountRecord[]): string {
  const source = text.trim();
  if (source === '') return '';
  let html = '';
  let index = 0;
  for (const e of extractEntities(source)) {
    html += escapeHtml(source.slice(index, e.start));
    html += renderEntity(e, config, mentioned);
    index = e.end;
  }
  html += escapeHtml(source.slice(index));
  return simpleFormat(html);
}

function renderEntity(e: Entity, config: Config, mentioned: readonly AccountRecord[]): string {
  if (e.kind === 'url') return shortenedLink(e.url);
  if (e.kind === 'hashtag') {
    const url = tagUrl(config, e.hashtag);
    return `<a href="${escapeHtml(url)}" class="mention hashtag" rel="tag">#<span>${escapeHtml(e.hashtag)}</span></a>`;
  }
  const domain = isLocalDomain(e.domain, config) ? null : e.domain?.toLowerCase();
  const account = mentioned.find(
    (a) => a.username.toLowerCase() === e.username.toLowerCase() && (a.domain ?? null) === (domain ?? null),
  );
  if (account === undefined) return `@${escapeHtml(e.screenName)}`;
  // Two mentioned accounts with this username (local and remote): show the domain.
  const ambiguous = mentioned.some(
    (a) => a !== account && a.username.toLowerCase() === account.username.toLowerCase(),
  );
  const shown =
    ambiguous && account.domain !== null ? `${account.username}@${account.domain}` : account.username;
  return `<span class="h-card" translate="no"><a href="${escapeHtml(accountUrl(config, account))}" class="u-url mention">@<span>${escapeHtml(shown)}</span></a></span>`;
}

/** Rails' simple_format as Mastodon uses it: blank lines split paragraphs, newlines become <br />. */
function simpleFormat(html: string): string {
  const normalized = html.replace(/\r\n?/g, '\n');
  const paragraphs = normalized.split(/\n\s*\n/);
  return paragraphs
    .map((p) => `<p>${p.replace(/([^\n]\n)(?=[^\n])/g, '$1<br />').replaceAll('\n', '')}</p>`)
    .join('');
}
