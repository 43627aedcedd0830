import { newId } from '../../../src/db/ids.ts';
import type { Context } from '../../../src/domain/context.ts';

/**
 * Rows inserted directly, so that the notification tests do not depend on the statuses and
 * relationships modules: only the columns notify() reads are filled.
 */
type Ctx = Pick<Context, 'database' | 'config'>;

export async function insertStatus(
  ctx: Ctx,
  accountId: string,
  options: {
    visibility?: 'public' | 'unlisted' | 'private' | 'direct';
    mentions?: string[];
    inReplyTo?: { id: string; accountId: string };
    text?: string;
  } = {},
): Promise<string> {
  const id = newId();
  const conversationId = options.inReplyTo ? await conversationOf(ctx, options.inReplyTo.id) : id;
  await ctx.database.query(
    `insert into statuses (id, account_id, uri, text, content, visibility, in_reply_to_id, in_reply_to_account_id, conversation_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      id,
      accountId,
      `https://${ctx.config.localDomain}/statuses/${id}`,
      options.text ?? 'hello',
      `<p>${options.text ?? 'hello'}</p>`,
      options.visibility ?? 'public',
      options.inReplyTo?.id ?? null,
      options.inReplyTo?.accountId ?? null,
      conversationId,
    ],
  );
  for (const mentioned of options.mentions ?? []) {
    await ctx.database.query('insert into mentions (id, status_id, account_id) values ($1, $2, $3)', [
      newId(),
      id,
      mentioned,
    ]);
  }
  return id;
}

async function conversationOf(ctx: Ctx, statusId: string): Promise<string> {
  const [row] = await ctx.database.query<{ c: string }>(
    'select coalesce(conversation_id, id)::text as c from statuses where id = $1',
    [statusId],
  );
  return row?.c ?? statusId;
}

export async function insertFollow(
  ctx: Ctx,
  accountId: string,
  targetAccountId: string,
  daysAgo = 0,
): Promise<void> {
  await ctx.database.query(
    `insert into follows (id, account_id, target_account_id, created_at) values ($1, $2, $3, now() - make_interval(days => $4::int))`,
    [newId(), accountId, targetAccountId, daysAgo],
  );
}

export async function insertBlock(ctx: Ctx, accountId: string, targetAccountId: string): Promise<void> {
  await ctx.database.query('insert into blocks (id, account_id, target_account_id) values ($1, $2, $3)', [
    newId(),
    accountId,
    targetAccountId,
  ]);
}

export async function insertMute(
  ctx: Ctx,
  accountId: string,
  targetAccountId: string,
  options: { notifications?: boolean; expired?: boolean } = {},
): Promise<void> {
  await ctx.database.query(
    `insert into mutes (id, account_id, target_account_id, hide_notifications, expires_at)
     values ($1, $2, $3, $4, case when $5::boolean then now() - interval '1 minute' else null end)`,
    [newId(), accountId, targetAccountId, options.notifications ?? true, options.expired ?? false],
  );
}

export async function muteConversation(ctx: Ctx, accountId: string, statusId: string): Promise<void> {
  await ctx.database.query('insert into conversation_mutes (account_id, conversation_id) values ($1, $2)', [
    accountId,
    await conversationOf(ctx, statusId),
  ]);
}

/** Makes an account look older than the "new accounts" threshold. */
export async function ageAccount(ctx: Ctx, accountId: string, days: number): Promise<void> {
  await ctx.database.query(
    `update accounts set created_at = now() - make_interval(days => $2::int) where id = $1`,
    [accountId, days],
  );
}
