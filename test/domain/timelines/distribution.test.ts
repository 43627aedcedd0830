import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { removeStatusFromFeeds } from '../../../src/domain/statuses/delete.ts';
import { distributeStatus } from '../../../src/domain/statuses/store.ts';
import { fanOutStatus } from '../../../src/domain/timelines/distribution.ts';
import {
  homeFeedPage,
  mergeIntoHome,
  rebuildHome,
  unmergeFromHome,
} from '../../../src/domain/timelines/feeds.ts';
import { createTestUser } from '../../support/accounts.ts';
import { createTestContext, type TestContext } from '../../support/context.ts';
import { block, follow, mute } from '../../support/graph.ts';
import { insertStatus } from '../../support/statuses.ts';

let ctx: TestContext;

before(async () => {
  ctx = await createTestContext();
});

after(async () => {
  await ctx?.close();
});

const user = async () => (await createTestUser(ctx)).account.id;
const home = (id: string) => homeFeedPage(ctx, id, { limit: 40 });

/** A user whose feed exists (fan-out only fills built feeds). */
async function built(): Promise<string> {
  const id = await user();
  await insertStatus(ctx, { accountId: id });
  await rebuildHome(ctx, id);
  return id;
}

test('distributeStatus queues one default-queue job per status', async () => {
  const author = await user();
  const id = await insertStatus(ctx, { accountId: author });
  await distributeStatus(ctx, id);
  await distributeStatus(ctx, id);
  const counts = await ctx.queue.counts();
  assert.equal(counts.default?.waiting, 1);
});

test('fan-out reaches the author and followers who pass the home rules', async () => {
  const author = await built();
  const [plain, noReblogs, french, blocker, muter, stranger, expiredMuter] = [
    await built(),
    await built(),
    await built(),
    await built(),
    await built(),
    await built(),
    await built(),
  ];
  for (const f of [plain, blocker, muter, expiredMuter]) await follow(ctx, f, author);
  await follow(ctx, noReblogs, author, { showReblogs: false });
  await follow(ctx, french, author, { languages: ['fr'] });
  await block(ctx, blocker, author);
  await mute(ctx, muter, author);
  await mute(ctx, expiredMuter, author, { expiresAt: new Date(Date.now() - 1000) });

  const post = await insertStatus(ctx, { accountId: author, language: 'en' });
  assert.equal(await fanOutStatus(ctx, post), 4);
  for (const who of [author, plain, noReblogs, expiredMuter]) assert.ok((await home(who)).includes(post));
  for (const who of [french, blocker, muter, stranger]) assert.ok(!(await home(who)).includes(post));

  const other = await built();
  const boosted = await insertStatus(ctx, { accountId: other });
  const boost = await insertStatus(ctx, { accountId: author, reblogOfId: boosted });
  await fanOutStatus(ctx, boost);
  assert.ok((await home(plain)).includes(boost));
  assert.ok(!(await home(noReblogs)).includes(boost), 'show_reblogs off');

  // Private: followers; direct: mentioned followers only.
  const priv = await insertStatus(ctx, { accountId: author, visibility: 'private' });
  await fanOutStatus(ctx, priv);
  assert.ok((await home(plain)).includes(priv));
  assert.ok(!(await home(stranger)).includes(priv));
  const dm = await insertStatus(ctx, {
    accountId: author,
    visibility: 'direct',
    mentions: [noReblogs, stranger],
  });
  await fanOutStatus(ctx, dm);
  assert.ok((await home(noReblogs)).includes(dm));
  assert.ok(!(await home(plain)).includes(dm));
  assert.ok(!(await home(stranger)).includes(dm));
  assert.ok((await home(author)).includes(dm));

  // Replies: only to people the follower follows, to the follower, or to oneself.
  const third = await built();
  const reply = await insertStatus(ctx, {
    accountId: author,
    inReplyToId: boosted,
    inReplyToAccountId: third,
  });
  const selfReply = await insertStatus(ctx, {
    accountId: author,
    inReplyToId: post,
    inReplyToAccountId: author,
  });
  const replyToPlain = await insertStatus(ctx, {
    accountId: author,
    inReplyToId: post,
    inReplyToAccountId: plain,
  });
  for (const id of [reply, selfReply, replyToPlain]) await fanOutStatus(ctx, id);
  const plainHome = await home(plain);
  assert.ok(!plainHome.includes(reply));
  assert.ok(plainHome.includes(selfReply));
  assert.ok(plainHome.includes(replyToPlain));
  await follow(ctx, noReblogs, third);
  await fanOutStatus(ctx, reply);
  assert.ok((await home(noReblogs)).includes(reply));

  // A status mentioning an account the follower mutes stays out.
  const mentioning = await insertStatus(ctx, { accountId: author, mentions: [third] });
  await mute(ctx, plain, third);
  await fanOutStatus(ctx, mentioning);
  assert.ok(!(await home(plain)).includes(mentioning));

  await removeStatusFromFeeds(ctx, post);
  assert.ok(!(await home(plain)).includes(post));
  assert.ok(!(await home(author)).includes(post));
});

test('a missing feed is rebuilt from the graph on its first read', async () => {
  const author = await user();
  const reader = await user();
  const before = await insertStatus(ctx, { accountId: author });
  await follow(ctx, reader, author);
  const mine = await insertStatus(ctx, { accountId: reader });
  const muted = await user();
  await follow(ctx, reader, muted);
  await mute(ctx, reader, muted);
  const hidden = await insertStatus(ctx, { accountId: muted });
  assert.equal(await ctx.feeds.exists(reader), false);
  assert.deepEqual(await home(reader), [mine, before]);
  assert.ok(!(await home(reader)).includes(hidden));
  assert.equal(await ctx.feeds.exists(reader), true);
});

test('merge on follow, unmerge on unfollow, clear on block', async () => {
  const reader = await built();
  const author = await user();
  const booster = await user();
  const a1 = await insertStatus(ctx, { accountId: author });
  const a2 = await insertStatus(ctx, { accountId: author, visibility: 'private' });
  await follow(ctx, reader, booster);
  const boost = await insertStatus(ctx, { accountId: booster, reblogOfId: a1 });
  await fanOutStatus(ctx, boost);
  assert.ok((await home(reader)).includes(boost));

  await follow(ctx, reader, author);
  assert.equal(await mergeIntoHome(ctx, reader, author), 1);
  const merged = await home(reader);
  assert.ok(merged.includes(a2));
  assert.ok(merged.includes(boost));
  assert.ok(!merged.includes(a1), 'its boost is already among the newest entries');

  // A plain unfollow takes the author's own statuses out, not boosts by others.
  await ctx.database.query('delete from follows where account_id = $1 and target_account_id = $2', [
    reader,
    author,
  ]);
  assert.equal(await unmergeFromHome(ctx, reader, author), 1);
  assert.ok(!(await home(reader)).includes(a2));
  assert.ok((await home(reader)).includes(boost));
  // A block also takes boosts of its statuses.
  await block(ctx, reader, author);
  await unmergeFromHome(ctx, reader, author);
  assert.ok(!(await home(reader)).includes(boost));
});

test('followers who asked to be notified get a status notification, not for reblogs or replies to others', async () => {
  const author = await built();
  const subscriber = await built();
  const plain = await built();
  await follow(ctx, plain, author);
  await follow(ctx, subscriber, author, { notify: true });
  const post = await insertStatus(ctx, { accountId: author });
  const other = await built();
  const reply = await insertStatus(ctx, { accountId: author, inReplyToId: post, inReplyToAccountId: other });
  const boost = await insertStatus(ctx, {
    accountId: author,
    reblogOfId: await insertStatus(ctx, { accountId: other }),
  });
  for (const id of [post, reply, boost]) await fanOutStatus(ctx, id);
  const rows = await ctx.database.query<{ account_id: string; status_id: string }>(
    `select account_id::text, status_id::text from notifications where type = 'status' and from_account_id = $1`,
    [author],
  );
  assert.deepEqual(
    rows.map((r) => [r.account_id, r.status_id]),
    [[subscriber, post]],
  );
});
