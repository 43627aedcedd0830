import { eq } from 'drizzle-orm';
import { users } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';

/**
 * What the streaming server needs to know about one viewer to decide, in memory, whether a status
 * on a public or hashtag stream reaches them (mastodon.md §3: Mastodon's streaming server asks
 * PostgreSQL for every status and every connection; Woolly loads this once per account, shares it
 * between the account's connections and reloads it on `viewer_state_changed`, DESIGN.md §8).
 */
export interface ViewerState {
  accountId: string;
  /** Accounts the viewer blocks. */
  blocking: ReadonlySet<string>;
  /** Accounts that block the viewer. */
  blockedBy: ReadonlySet<string>;
  /** Accounts the viewer mutes, with the mute's end (epoch ms) or null when it does not end. */
  muting: ReadonlyMap<string, number | null>;
  /** Domains the viewer blocks (lowercase). */
  domainBlocks: ReadonlySet<string>;
  /** Only statuses in these languages reach the viewer's public streams; null: every language. */
  chosenLanguages: ReadonlySet<string> | null;
}

/**
 * The facts of a status that the filter reads, once per message: from the facts the publisher
 * sends beside the payload (status-facts.ts), else from the entity itself (src/streaming/entity-facts.ts).
 */
export interface StatusFacts {
  authorId: string;
  /** The author and every mentioned account. */
  accountIds: readonly string[];
  /** The author's domain, lowercase; null for a local author. */
  domain: string | null;
  language: string | null;
}

/**
 * Loads a viewer's state: one query for the block and mute edges in both directions, one for the
 * user's chosen languages. Accounts have no domain blocks yet (that table arrives with the domain
 * block API), so the set is empty until then.
 */
export async function loadViewerState(
  ctx: Pick<Context, 'database'>,
  accountId: string,
): Promise<ViewerState> {
  const [edges, userRows] = await Promise.all([
    ctx.database.query<{
      kind: string;
      account_id: unknown;
      target_account_id: unknown;
      expires_at: unknown;
    }>(
      `select 'block' as kind, account_id, target_account_id, null::timestamptz as expires_at
         from blocks where account_id = $1 or target_account_id = $1
       union all
       select 'mute', account_id, target_account_id, expires_at
         from mutes where account_id = $1 and (expires_at is null or expires_at > now())`,
      [accountId],
    ),
    ctx.database.db.select({ settings: users.settings }).from(users).where(eq(users.accountId, accountId)),
  ]);
  const blocking = new Set<string>();
  const blockedBy = new Set<string>();
  const muting = new Map<string, number | null>();
  for (const row of edges) {
    const from = String(row.account_id);
    const to = String(row.target_account_id);
    if (row.kind === 'mute') muting.set(to, row.expires_at == null ? null : toEpoch(row.expires_at));
    else if (from === accountId) blocking.add(to);
    else blockedBy.add(from);
  }
  return {
    accountId,
    blocking,
    blockedBy,
    muting,
    domainBlocks: new Set(),
    chosenLanguages: chosenLanguages(userRows[0]?.settings),
  };
}

function toEpoch(value: unknown): number {
  return value instanceof Date ? value.getTime() : new Date(String(value)).getTime();
}

/**
 * The languages a user reads on public streams and timelines: Mastodon's `chosen_languages`, kept
 * in `users.settings` under that name. Absent, empty or malformed: every language.
 */
export function chosenLanguages(settings: unknown): ReadonlySet<string> | null {
  if (typeof settings !== 'object' || settings === null) return null;
  const value = (settings as Record<string, unknown>).chosen_languages;
  if (!Array.isArray(value)) return null;
  const languages = value.filter((v): v is string => typeof v === 'string' && v !== '');
  return languages.length > 0 ? new Set(languages) : null;
}

/**
 * Whether a status on a public or hashtag stream reaches the viewer, by Mastodon's streaming rules:
 * not when its language is outside the viewer's chosen languages, when the viewer blocks or mutes
 * the author or a mentioned account, when the author blocks the viewer, or when the viewer blocks
 * the author's domain.
 */
export function statusReachesViewer(state: ViewerState, facts: StatusFacts, now: number): boolean {
  if (
    state.chosenLanguages !== null &&
    (facts.language === null || !state.chosenLanguages.has(facts.language))
  )
    return false;
  if (state.blockedBy.has(facts.authorId)) return false;
  for (const id of facts.accountIds) {
    if (state.blocking.has(id)) return false;
    const muteEnds = state.muting.get(id);
    if (muteEnds === null || (muteEnds !== undefined && muteEnds > now)) return false;
  }
  return facts.domain === null || !state.domainBlocks.has(facts.domain);
}
