import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { webSessions } from '../../../src/db/schema/index.ts';
import {
  ANONYMOUS_IDLE_MS,
  createWebSession,
  endUserWebSessions,
  findWebSession,
  PENDING_OTP_MS,
  pruneWebSessions,
  SIGNED_IN_IDLE_MS,
} from '../../../src/domain/auth/sessions.ts';
import { createTestUser } from '../../support/accounts.ts';
import { createTestContext, type TestContext } from '../../support/context.ts';

let ctx: TestContext;

before(async () => {
  ctx = await createTestContext();
});

after(async () => {
  await ctx?.close();
});

test('a session is found by its cookie value only, with its user', async () => {
  const { user } = await createTestUser(ctx);
  const { token, session } = await createWebSession(ctx, {
    userId: user.id,
    ip: '127.0.0.1',
    userAgent: 'x'.repeat(1000),
  });
  assert.notEqual(session.tokenHash, token);
  assert.equal(session.userAgent?.length, 255);
  const found = await findWebSession(ctx, token);
  assert.equal(found?.user?.id, user.id);
  assert.equal(await findWebSession(ctx, session.tokenHash), null, 'the stored hash is not a credential');
  assert.equal(await findWebSession(ctx, ''), null);
});

test('sessions expire: anonymous after a day idle, pending after 10 minutes, signed in after a year idle', async () => {
  const { user } = await createTestUser(ctx);
  const anon = await createWebSession(ctx, {});
  const pending = await createWebSession(ctx, { pendingOtpUserId: user.id });
  const signed = await createWebSession(ctx, { userId: user.id });
  const age = async (id: string, ms: number, column: 'lastSeenAt' | 'createdAt') => {
    await ctx.database.db
      .update(webSessions)
      .set({ [column]: new Date(Date.now() - ms) })
      .where(eq(webSessions.id, id));
  };
  await age(anon.session.id, ANONYMOUS_IDLE_MS - 60_000, 'lastSeenAt');
  await age(pending.session.id, PENDING_OTP_MS - 60_000, 'createdAt');
  await age(signed.session.id, SIGNED_IN_IDLE_MS - 60_000, 'lastSeenAt');
  assert.ok(await findWebSession(ctx, anon.token));
  assert.ok(await findWebSession(ctx, pending.token));
  assert.ok(await findWebSession(ctx, signed.token));
  await age(anon.session.id, ANONYMOUS_IDLE_MS + 60_000, 'lastSeenAt');
  await age(pending.session.id, PENDING_OTP_MS + 60_000, 'createdAt');
  await age(signed.session.id, SIGNED_IN_IDLE_MS + 60_000, 'lastSeenAt');
  assert.equal(await findWebSession(ctx, anon.token), null);
  assert.equal(await findWebSession(ctx, pending.token), null);
  assert.equal(await findWebSession(ctx, signed.token), null);
});

test('pruning removes only expired sessions; ending a user’s sessions can keep one', async () => {
  const { user } = await createTestUser(ctx);
  const keep = await createWebSession(ctx, { userId: user.id });
  const other = await createWebSession(ctx, { userId: user.id });
  const pending = await createWebSession(ctx, { pendingOtpUserId: user.id });
  const stale = await createWebSession(ctx, {});
  await ctx.database.db
    .update(webSessions)
    .set({ lastSeenAt: new Date(Date.now() - ANONYMOUS_IDLE_MS - 1000) })
    .where(eq(webSessions.id, stale.session.id));
  assert.ok((await pruneWebSessions(ctx)) >= 1);
  assert.equal(await findWebSession(ctx, stale.token), null);
  assert.ok(await findWebSession(ctx, keep.token));
  assert.equal(await endUserWebSessions(ctx, user.id, { exceptSessionId: keep.session.id }), 2);
  assert.ok(await findWebSession(ctx, keep.token));
  assert.equal(await findWebSession(ctx, other.token), null);
  assert.equal(await findWebSession(ctx, pending.token), null);
});
