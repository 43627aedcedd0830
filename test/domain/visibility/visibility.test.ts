import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { newId } from '../../../src/db/ids.ts';
import { accounts, follows, mentions, statuses } from '../../../src/db/schema/index.ts';
import type { StatusRecord } from '../../../src/domain/statuses/views.ts';
import {
  blockedEitherWay,
  canInteract,
  canNotifyAbout,
  canQuote,
  canReblog,
  canViewStatus,
  type StatusVisibility,
  visibleStatusCondition,
  visibleStatusIds,
} from '../../../src/domain/visibility/visibility.ts';
import { createTestUser, type TestUser } from '../../support/accounts.ts';
import { createTestContext, type TestContext } from '../../support/context.ts';
import { block, follow, mute } from '../../support/graph.ts';

let ctx: TestContext;
const users: Record<string, TestUser> = {};
const VIEWERS = [
  'author',
  'follower',
  'mentioned',
  'other',
  'blocked',
  'blocker',
  'muted',
  'anonymous',
] as const;
type Viewer = (typeof VIEWERS)[number];
const byVisibility: Partial<Record<StatusVisibility, StatusRecord>> = {};

async function insertStatus(accountId: string, visibility: string, extra: Partial<StatusRecord> = {}) {
  const id = newId();
  const [row] = await ctx.database.db
    .insert(statuses)
    .values({
      id,
      accountId,
      uri: `https://woolly.test/s/${id}`,
      visibility,
      text: 'x',
      content: '<p>x</p>',
      ...extra,
    })
    .returning();
  return row!;
}

const viewerId = (v: Viewer) => (v === 'anonymous' ? null : users[v]!.account.id);

before(async () => {
  ctx = await createTestContext();
  for (const name of VIEWERS)
    if (name !== 'anonymous') users[name] = await createTestUser(ctx, { username: name });
  const author = users.author!.account.id;
  await follow(ctx, users.follower!.account.id, author);
  // Blocks and mutes do not depend on following: these two follow too, to show the block wins.
  await follow(ctx, users.blocked!.account.id, author);
  await follow(ctx, users.muted!.account.id, author);
  await ctx.database.db.delete(follows).where(eq(follows.accountId, users.blocked!.account.id));
  await block(ctx, author, users.blocked!.account.id);
  await block(ctx, users.blocker!.account.id, author);
  await mute(ctx, author, users.muted!.account.id);
  for (const visibility of ['public', 'unlisted', 'private', 'direct'] as const) {
    const status = await insertStatus(author, visibility);
    await ctx.database.db
      .insert(mentions)
      .values({ id: newId(), statusId: status.id, accountId: users.mentioned!.account.id });
    byVisibility[visibility] = status;
  }
});

after(async () => {
  await ctx?.close();
});

// Who sees what: the matrix, by visibility × viewer.
const EXPECTED: Record<StatusVisibility, Viewer[]> = {
  public: ['author', 'follower', 'mentioned', 'other', 'muted', 'anonymous'],
  unlisted: ['author', 'follower', 'mentioned', 'other', 'muted', 'anonymous'],
  private: ['author', 'follower', 'mentioned', 'muted'],
  direct: ['author', 'mentioned'],
};

describe('canViewStatus and visibleStatusCondition agree with the matrix', () => {
  for (const visibility of ['public', 'unlisted', 'private', 'direct'] as const) {
    for (const viewer of VIEWERS) {
      const expected = EXPECTED[visibility].includes(viewer);
      test(`${visibility} × ${viewer} → ${expected ? 'visible' : 'hidden'}`, async () => {
        const status = byVisibility[visibility]!;
        assert.equal(await canViewStatus(ctx, viewerId(viewer), status), expected);
        const ids = await visibleStatusIds(ctx, viewerId(viewer), [status.id]);
        assert.equal(ids.has(status.id), expected);
        // The condition works inside any query over statuses, e.g. a timeline's.
        const rows = await ctx.database.db
          .select({ id: statuses.id })
          .from(statuses)
          .where(visibleStatusCondition(viewerId(viewer)));
        assert.equal(
          rows.some((r) => r.id === status.id),
          expected,
        );
      });
    }
  }
});

describe('reblog, reply, quote, notify', () => {
  test('boosting: public and unlisted by those who see them, private only by its author, direct never', async () => {
    const expectations: [StatusVisibility, Viewer, boolean][] = [
      ['public', 'other', true],
      ['public', 'anonymous', false],
      ['public', 'blocked', false],
      ['public', 'blocker', false],
      ['unlisted', 'follower', true],
      ['private', 'follower', false],
      ['private', 'author', true],
      ['direct', 'author', false],
      ['direct', 'mentioned', false],
    ];
    for (const [visibility, viewer, expected] of expectations) {
      assert.equal(
        await canReblog(ctx, viewerId(viewer), byVisibility[visibility]!),
        expected,
        `${visibility} × ${viewer}`,
      );
    }
  });

  test('replying needs sight; quoting is never allowed for private and direct', async () => {
    assert.equal(await canInteract(ctx, viewerId('mentioned'), byVisibility.direct!), true);
    assert.equal(await canInteract(ctx, viewerId('other'), byVisibility.private!), false);
    assert.equal(await canInteract(ctx, null, byVisibility.public!), false);
    assert.equal(await canQuote(ctx, viewerId('other'), byVisibility.public!), true);
    assert.equal(await canQuote(ctx, viewerId('follower'), byVisibility.private!), false);
    assert.equal(await canQuote(ctx, viewerId('author'), byVisibility.direct!), false);
  });

  test('a reblog is visible only when its original is', async () => {
    const booster = users.follower!.account.id;
    const reblogOfPublic = await insertStatus(booster, 'public', {
      reblogOfId: byVisibility.public!.id,
      text: '',
      content: '',
    });
    assert.equal(await canViewStatus(ctx, viewerId('other'), reblogOfPublic), true);
    assert.equal(await canViewStatus(ctx, viewerId('blocked'), reblogOfPublic), false);
    assert.equal(await canViewStatus(ctx, null, reblogOfPublic), true);
    // A (forged) reblog of a private status does not reveal it to non-followers.
    const reblogOfPrivate = await insertStatus(booster, 'public', {
      reblogOfId: byVisibility.private!.id,
      text: '',
      content: '',
    });
    assert.equal(await canViewStatus(ctx, viewerId('other'), reblogOfPrivate), false);
    assert.equal(await canViewStatus(ctx, viewerId('follower'), reblogOfPrivate), true);
    await ctx.database.db.delete(statuses).where(eq(statuses.id, reblogOfPublic.id));
    await ctx.database.db.delete(statuses).where(eq(statuses.id, reblogOfPrivate.id));
  });

  test('statuses of a suspended account are hidden from others', async () => {
    const owner = await createTestUser(ctx);
    const status = await insertStatus(owner.account.id, 'public');
    assert.equal(await canViewStatus(ctx, viewerId('other'), status), true);
    await ctx.database.db
      .update(accounts)
      .set({ suspendedAt: new Date() })
      .where(eq(accounts.id, owner.account.id));
    assert.equal(await canViewStatus(ctx, viewerId('other'), status), false);
    assert.equal(await canViewStatus(ctx, null, status), false);
  });

  test('notifications: none between blocked or notification-muting accounts, none about unseen statuses', async () => {
    const author = users.author!.account.id;
    assert.equal(await canNotifyAbout(ctx, author, viewerId('other')!, byVisibility.public!), true);
    assert.equal(await canNotifyAbout(ctx, author, viewerId('blocked')!, null), false);
    assert.equal(await canNotifyAbout(ctx, author, viewerId('blocker')!, null), false);
    assert.equal(await canNotifyAbout(ctx, author, viewerId('muted')!, null), false);
    assert.equal(await canNotifyAbout(ctx, author, author, null), false);
    assert.equal(await canNotifyAbout(ctx, viewerId('other')!, author, byVisibility.direct!), false);
    assert.equal(await canNotifyAbout(ctx, viewerId('mentioned')!, author, byVisibility.direct!), true);
    assert.equal(await blockedEitherWay(ctx, author, viewerId('blocker')!), true);
    assert.equal(await blockedEitherWay(ctx, viewerId('blocker')!, author), true);
    assert.equal(await blockedEitherWay(ctx, author, viewerId('other')!), false);
  });
});
