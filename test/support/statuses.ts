import { newId } from '../../src/db/ids.ts';
import { mentions, statuses, statusTags, tags } from '../../src/db/schema/index.ts';
import type { Context } from '../../src/domain/context.ts';

/**
 * Statuses written straight into the database, for suites that test what reads them (timelines,
 * feeds, notifications, streaming) rather than posting, which has its own suites through the API.
 * Only the columns those readers use are filled.
 */
type Ctx = Pick<Context, 'database' | 'config'>;

export interface StatusInput {
  accountId: string;
  visibility?: 'public' | 'unlisted' | 'private' | 'direct';
  reblogOfId?: string;
  inReplyToId?: string;
  inReplyToAccountId?: string;
  /** Defaults to 'en'; null for a status of unknown language. */
  language?: string | null;
  /** Accounts mentioned (rows in `mentions`). */
  mentions?: string[];
  /** Hashtags, created when new (rows in `tags` and `status_tags`). */
  tags?: string[];
  local?: boolean;
  text?: string;
}

/**
 * Inserts a status (with its mentions and tags) and returns its id. A reply joins its parent's
 * conversation; any other status starts its own. Nothing to tear down: it goes with the database.
 */
export async function insertStatus(ctx: Ctx, input: StatusInput): Promise<string> {
  const id = newId();
  const text = input.text ?? `status ${id}`;
  await ctx.database.db.insert(statuses).values({
    id,
    accountId: input.accountId,
    uri: `https://${ctx.config.localDomain}/statuses/${id}`,
    text,
    content: `<p>${text}</p>`,
    visibility: input.visibility ?? 'public',
    reblogOfId: input.reblogOfId ?? null,
    inReplyToId: input.inReplyToId ?? null,
    inReplyToAccountId: input.inReplyToAccountId ?? null,
    conversationId: input.inReplyToId ? await conversationOf(ctx, input.inReplyToId) : id,
    language: input.language === undefined ? 'en' : input.language,
    local: input.local ?? true,
  });
  for (const accountId of input.mentions ?? []) {
    await ctx.database.db.insert(mentions).values({ id: newId(), statusId: id, accountId });
  }
  for (const name of input.tags ?? []) {
    const [tag] = await ctx.database.db
      .insert(tags)
      .values({ id: newId(), name: name.toLowerCase(), displayName: name })
      .onConflictDoUpdate({ target: tags.name, set: { displayName: name } })
      .returning({ id: tags.id });
    await ctx.database.db.insert(statusTags).values({ statusId: id, tagId: tag!.id });
  }
  return id;
}

/** The conversation a status belongs to (its own id when it has none). */
export async function conversationOf(ctx: Pick<Context, 'database'>, statusId: string): Promise<string> {
  const [row] = await ctx.database.query<{ c: string }>(
    'select coalesce(conversation_id, id)::text as c from statuses where id = $1',
    [statusId],
  );
  return row?.c ?? statusId;
}
