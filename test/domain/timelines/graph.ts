import { newId } from '../../../src/db/ids.ts';
import {
  blocks,
  follows,
  mentions,
  mutes,
  statuses,
  statusTags,
  tags,
} from '../../../src/db/schema/index.ts';
import type { Context } from '../../../src/domain/context.ts';

/**
 * Direct writes of statuses and graph edges for the timeline tests, so that they test the feeds
 * and timelines rather than posting and following (tested by their own suites).
 */
type Ctx = Pick<Context, 'database' | 'config'>;

export interface StatusInput {
  accountId: string;
  visibility?: 'public' | 'unlisted' | 'private' | 'direct';
  reblogOfId?: string;
  inReplyToId?: string;
  inReplyToAccountId?: string;
  language?: string | null;
  mentions?: string[];
  tags?: string[];
  local?: boolean;
  text?: string;
}

export async function insertStatus(ctx: Ctx, input: StatusInput): Promise<string> {
  const id = newId();
  await ctx.database.db.insert(statuses).values({
    id,
    accountId: input.accountId,
    uri: `https://${ctx.config.localDomain}/statuses/${id}`,
    text: input.text ?? `status ${id}`,
    content: `<p>${input.text ?? `status ${id}`}</p>`,
    visibility: input.visibility ?? 'public',
    reblogOfId: input.reblogOfId ?? null,
    inReplyToId: input.inReplyToId ?? null,
    inReplyToAccountId: input.inReplyToAccountId ?? null,
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

export async function follow(
  ctx: Ctx,
  accountId: string,
  targetAccountId: string,
  options: { showReblogs?: boolean; languages?: string[] | null } = {},
): Promise<void> {
  await ctx.database.db.insert(follows).values({
    id: newId(),
    accountId,
    targetAccountId,
    showReblogs: options.showReblogs ?? true,
    languages: options.languages ?? null,
  });
}

export async function block(ctx: Ctx, accountId: string, targetAccountId: string): Promise<void> {
  await ctx.database.db.insert(blocks).values({ id: newId(), accountId, targetAccountId });
}

export async function mute(
  ctx: Ctx,
  accountId: string,
  targetAccountId: string,
  expiresAt: Date | null = null,
): Promise<void> {
  await ctx.database.db.insert(mutes).values({ id: newId(), accountId, targetAccountId, expiresAt });
}
