import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { newId } from '../../src/db/ids.ts';
import { favourites } from '../../src/db/schema/index.ts';
import { issueAccessToken, revokeAccessToken } from '../../src/domain/auth/tokens.ts';
import { notify } from '../../src/domain/notifications/notify.ts';
import { updatePolicy } from '../../src/domain/notifications/policy.ts';
import { block } from '../../src/domain/relationships/blocks.ts';
import { deleteStatus } from '../../src/domain/statuses/delete.ts';
import { editStatus } from '../../src/domain/statuses/edit.ts';
import {
  accessTokenChannel,
  directChannel,
  hashtagChannel,
  notificationsChannel,
  presenceKey,
  publicChannel,
  systemChannel,
  userChannel,
} from '../../src/domain/streaming/channels.ts';
import { fanOutStatus, fanOutStatusUpdate } from '../../src/domain/timelines/distribution.ts';
import type { PubSub } from '../../src/infra/pubsub/pubsub.ts';
import { StreamPublisher } from '../../src/streaming/publisher.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { createTestContext, type TestContext } from '../support/context.ts';
import { follow } from '../support/graph.ts';
import { checkSchema } from '../support/openapi.ts';
import { insertStatus } from '../support/statuses.ts';

let ctx: TestContext;

before(async () => {
  ctx = await createTestContext();
});

after(async () => {
  await ctx?.close();
});

interface Heard {
  channel: string;
  event: string;
  payload: unknown;
}

const PUBLIC_CHANNELS = [
  publicChannel('all'),
  publicChannel('local'),
  publicChannel('remote'),
  publicChannel('all', true),
  publicChannel('local', true),
  publicChannel('remote', true),
];

let barrier = 0;

/**
 * Listens on channels while `action` runs and returns what they heard. A last message on a channel
 * of its own marks the end: the pub/sub delivers in publish order, so once it arrives everything
 * published before it has arrived too (no waiting on a clock).
 */
async function hear(channels: readonly string[], action: () => Promise<unknown>): Promise<Heard[]> {
  const heard: Heard[] = [];
  const end = `test:barrier:${++barrier}`;
  let reached!: () => void;
  const done = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const stops = await Promise.all(
    [...new Set(channels)].map((channel) =>
      ctx.pubsub.subscribe(channel, (message) => {
        const parsed = JSON.parse(message) as { event: string; payload?: unknown };
        heard.push({ channel, event: parsed.event, payload: parsed.payload });
      }),
    ),
  );
  stops.push(await ctx.pubsub.subscribe(end, () => reached()));
  try {
    await action();
    await ctx.pubsub.publish(end, '{}');
    await done;
  } finally {
    await Promise.all(stops.map((stop) => stop()));
  }
  return heard;
}

const on = (heard: Heard[], channel: string) => heard.filter((h) => h.channel === channel);

/** Marks the account as streaming its `user` stream, as the streaming server does. */
const streaming = (accountId: string) => ctx.cache.set(presenceKey(userChannel(accountId)), '1', 60);

const newUser = () => createTestUser(ctx);

test('a public status reaches the public, local and hashtag channels, anonymously', async () => {
  const author = await newUser();
  const id = await insertStatus(ctx, { accountId: author.account.id, tags: ['Café'] });
  const channels = [...PUBLIC_CHANNELS, hashtagChannel('cafe'), hashtagChannel('cafe', true)];
  const heard = await hear(channels, () => fanOutStatus(ctx, id));

  for (const channel of [
    publicChannel('all'),
    publicChannel('local'),
    'timeline:hashtag:cafe',
    'timeline:hashtag:cafe:local',
  ]) {
    const [message, ...more] = on(heard, channel);
    assert.equal(more.length, 0, channel);
    assert.equal(message?.event, 'update', channel);
    const payload = message?.payload as Record<string, unknown>;
    assert.equal(payload.id, id);
    assert.equal('favourited' in payload, false, 'rendered for nobody');
    checkSchema(payload, 'Status');
  }
  assert.deepEqual(on(heard, publicChannel('remote')), [], 'a local author is not on the remote half');
  assert.deepEqual(on(heard, publicChannel('all', true)), [], 'no media, no media channel');
});

test('unlisted, private and direct statuses stay off the public and hashtag channels', async () => {
  const author = await newUser();
  for (const visibility of ['unlisted', 'private', 'direct'] as const) {
    const id = await insertStatus(ctx, { accountId: author.account.id, visibility, tags: ['quiet'] });
    const heard = await hear(
      [...PUBLIC_CHANNELS, hashtagChannel('quiet'), hashtagChannel('quiet', true)],
      () => fanOutStatus(ctx, id),
    );
    assert.deepEqual(heard, [], visibility);
  }
});

test('a reply to someone else reaches hashtag channels but not public ones; a self-reply both', async () => {
  const author = await newUser();
  const other = await newUser();
  const parent = await insertStatus(ctx, { accountId: other.account.id });
  const reply = await insertStatus(ctx, {
    accountId: author.account.id,
    inReplyToId: parent,
    inReplyToAccountId: other.account.id,
    tags: ['thread'],
  });
  const channels = [publicChannel('all'), publicChannel('local'), hashtagChannel('thread')];
  const heard = await hear(channels, () => fanOutStatus(ctx, reply));
  assert.deepEqual(
    heard.map((h) => h.channel),
    ['timeline:hashtag:thread'],
  );

  const own = await insertStatus(ctx, { accountId: other.account.id });
  const selfReply = await insertStatus(ctx, {
    accountId: other.account.id,
    inReplyToId: own,
    inReplyToAccountId: other.account.id,
  });
  const heardSelf = await hear(channels, () => fanOutStatus(ctx, selfReply));
  assert.deepEqual(heardSelf.map((h) => h.channel).sort(), ['timeline:public', 'timeline:public:local']);
});

test('a reblog is not published on public channels', async () => {
  const author = await newUser();
  const booster = await newUser();
  const original = await insertStatus(ctx, { accountId: author.account.id });
  const boost = await insertStatus(ctx, { accountId: booster.account.id, reblogOfId: original });
  const heard = await hear(PUBLIC_CHANNELS, () => fanOutStatus(ctx, boost));
  assert.deepEqual(heard, []);
});

test('home updates go to streaming recipients only, rendered for each of them', async () => {
  const author = await newUser();
  const booster = await newUser();
  const watching = await newUser();
  const away = await newUser();
  for (const u of [watching, away]) await follow(ctx, u.account.id, booster.account.id);
  await streaming(watching.account.id);
  const original = await insertStatus(ctx, { accountId: author.account.id });
  await ctx.database.db
    .insert(favourites)
    .values({ id: newId(), accountId: watching.account.id, statusId: original });
  const boost = await insertStatus(ctx, { accountId: booster.account.id, reblogOfId: original });

  const heard = await hear(
    [userChannel(watching.account.id), userChannel(away.account.id), userChannel(booster.account.id)],
    () => fanOutStatus(ctx, boost),
  );
  assert.deepEqual(on(heard, userChannel(away.account.id)), [], 'not streaming: nothing rendered');
  assert.deepEqual(on(heard, userChannel(booster.account.id)), [], 'the author is not streaming either');
  const [message, ...more] = on(heard, userChannel(watching.account.id));
  assert.equal(more.length, 0);
  assert.equal(message?.event, 'update');
  const payload = message?.payload as Record<string, unknown>;
  checkSchema(payload, 'Status');
  assert.equal(payload.id, boost);
  assert.equal(payload.favourited, false, 'the boost itself was not favourited');
  const reblog = payload.reblog as Record<string, unknown>;
  assert.equal(reblog.id, original);
  assert.equal(reblog.favourited, true, 'the viewer favourited what was boosted');
  assert.equal(reblog.reblogged, false);
});

test('a boost that a home refuses (its original was just there) is not streamed to that home', async () => {
  const author = await newUser();
  const booster = await newUser();
  const reader = await newUser();
  for (const target of [author, booster]) await follow(ctx, reader.account.id, target.account.id);
  await streaming(reader.account.id);
  const older = await insertStatus(ctx, { accountId: author.account.id });
  await ctx.feeds.replace(reader.account.id, [{ statusId: older, reblogOfId: null }]); // a built home
  const original = await insertStatus(ctx, { accountId: author.account.id });
  const first = await hear([userChannel(reader.account.id)], () => fanOutStatus(ctx, original));
  assert.deepEqual(
    first.map((h) => h.event),
    ['update'],
  );
  const boost = await insertStatus(ctx, { accountId: booster.account.id, reblogOfId: original });
  const second = await hear([userChannel(reader.account.id)], () => fanOutStatus(ctx, boost));
  assert.deepEqual(second, [], 'the home refused the boost (REBLOG_FALLOFF), so nothing is streamed');
  assert.deepEqual(await ctx.feeds.page(reader.account.id, { limit: 5 }), [original, older]);
});

test('an edit publishes status.update to streaming homes and to public and hashtag channels', async () => {
  const author = await newUser();
  const follower = await newUser();
  await follow(ctx, follower.account.id, author.account.id);
  await streaming(follower.account.id);
  const id = await insertStatus(ctx, {
    accountId: author.account.id,
    text: 'before #edits',
    tags: ['edits'],
  });
  await editStatus(ctx, { account: author.account, user: author.user }, id, { text: 'after #edits' });
  const waiting = await ctx.queue.counts();
  assert.ok((waiting.default?.waiting ?? 0) >= 1, 'the edit queued its distribution');

  const channels = [publicChannel('all'), hashtagChannel('edits'), userChannel(follower.account.id)];
  const heard = await hear(channels, () => fanOutStatusUpdate(ctx, id));
  assert.deepEqual(heard.map((h) => h.channel).sort(), [...channels].sort());
  for (const h of heard) {
    assert.equal(h.event, 'status.update');
    const payload = h.payload as Record<string, unknown>;
    assert.match(String(payload.content), /after/);
    assert.notEqual(payload.edited_at, null);
    checkSchema(payload, 'Status');
  }
  const home = on(heard, userChannel(follower.account.id))[0]?.payload as Record<string, unknown>;
  assert.equal(home.favourited, false, 'rendered for the follower');
});

test('a deletion publishes delete with the id on homes, public and hashtag channels', async () => {
  const author = await newUser();
  const follower = await newUser();
  await follow(ctx, follower.account.id, author.account.id);
  const id = await insertStatus(ctx, { accountId: author.account.id, tags: ['gone'] });
  const channels = [
    userChannel(author.account.id),
    userChannel(follower.account.id),
    publicChannel('all'),
    publicChannel('local'),
    hashtagChannel('gone'),
    hashtagChannel('gone', true),
    publicChannel('remote'),
  ];
  const heard = await hear(channels, () => deleteStatus(ctx, author.account.id, id));
  assert.deepEqual(
    heard.map((h) => h.channel).sort(),
    channels.filter((c) => c !== publicChannel('remote')).sort(),
  );
  for (const h of heard) assert.deepEqual([h.event, h.payload], ['delete', id]);

  const hidden = await insertStatus(ctx, {
    accountId: author.account.id,
    visibility: 'private',
    tags: ['gone'],
  });
  const heardPrivate = await hear(channels, () => deleteStatus(ctx, author.account.id, hidden));
  assert.deepEqual(
    heardPrivate.map((h) => h.channel).sort(),
    [userChannel(author.account.id), userChannel(follower.account.id)].sort(),
  );
});

test('notifications stream only to a recipient who is streaming, and never when filtered', async () => {
  const recipient = await newUser();
  const sender = await newUser();
  const channel = notificationsChannel(recipient.account.id);
  const status = await insertStatus(ctx, { accountId: recipient.account.id });
  const favouriteOf = (from: TestUser) =>
    notify(ctx, {
      type: 'favourite',
      recipientAccountId: recipient.account.id,
      fromAccountId: from.account.id,
      statusId: status,
    });

  assert.deepEqual(await hear([channel], () => favouriteOf(sender)), [], 'not streaming');

  // The `notification` stream alone is enough, and so is the `user` stream (which carries them too).
  await ctx.cache.set(presenceKey(channel), '1', 60);
  const heard = await hear([channel], () => favouriteOf(sender));
  const [message, ...more] = heard;
  assert.equal(more.length, 0);
  assert.equal(message?.event, 'notification');
  const payload = message?.payload as Record<string, unknown>;
  checkSchema(payload, 'Notification');
  assert.equal(payload.type, 'favourite');
  assert.equal((payload.account as { id: string }).id, sender.account.id);
  assert.equal((payload.status as { id: string }).id, status);

  await ctx.cache.del(presenceKey(channel));
  await streaming(recipient.account.id);
  const second = await newUser();
  const viaUser = await hear([channel], () => favouriteOf(second));
  assert.equal(viaUser.length, 1, 'the user stream counts as streaming notifications');

  await updatePolicy(ctx, recipient.account.id, { for_not_following: 'filter' }, 'v2');
  const stranger = await newUser();
  const mention = await insertStatus(ctx, {
    accountId: stranger.account.id,
    mentions: [recipient.account.id],
  });
  const filtered = await hear([channel], async () => {
    const n = await notify(ctx, {
      type: 'mention',
      recipientAccountId: recipient.account.id,
      fromAccountId: stranger.account.id,
      statusId: mention,
    });
    assert.equal(n?.filtered, true);
  });
  assert.deepEqual(filtered, [], 'a filtered notification is not streamed');
});

test('revoking a token publishes kill on its channel', async () => {
  const user = await newUser();
  const issued = await issueAccessToken(ctx, { applicationId: null, userId: user.user.id, scopes: ['read'] });
  const channel = accessTokenChannel(issued.id);
  const heard = await hear([channel], () => revokeAccessToken(ctx, issued.accessToken));
  assert.deepEqual(
    heard.map((h) => h.event),
    ['kill'],
  );
  assert.deepEqual(await hear([channel], () => revokeAccessToken(ctx, issued.accessToken)), [], 'once only');
});

test('a block tells both accounts’ system channels that their viewer state changed', async () => {
  const blocker = await newUser();
  const target = await newUser();
  const channels = [systemChannel(blocker.account.id), systemChannel(target.account.id)];
  const heard = await hear(channels, () => block(ctx, blocker.account.id, target.account.id));
  assert.deepEqual(
    heard.map((h) => `${h.channel} ${h.event}`).sort(),
    channels.map((c) => `${c} viewer_state_changed`).sort(),
  );
});

test('the publishing points of features to come publish what they are given', async () => {
  const user = await newUser();
  const id = user.account.id;
  await streaming(id);

  const filters = await hear([userChannel(id), systemChannel(id)], () => ctx.streams.filtersChanged(id));
  assert.deepEqual(filters.map((h) => `${h.channel} ${h.event}`).sort(), [
    `${userChannel(id)} filters_changed`,
    `${systemChannel(id)} filters_changed`,
  ]);

  const announcement = { id: '7', content: '<p>hello</p>' };
  const published = await hear([userChannel(id)], () => ctx.streams.announcement(announcement));
  assert.deepEqual(published, [{ channel: userChannel(id), event: 'announcement', payload: announcement }]);

  const reaction = await hear([userChannel(id)], () =>
    ctx.streams.announcementReaction({ announcementId: '7', name: '👍', count: 2 }),
  );
  assert.deepEqual(reaction, [
    {
      channel: userChannel(id),
      event: 'announcement.reaction',
      payload: { name: '👍', count: 2, announcement_id: '7' },
    },
  ]);

  const deleted = await hear([userChannel(id)], () => ctx.streams.announcementDeleted('7'));
  assert.deepEqual(deleted, [{ channel: userChannel(id), event: 'announcement.delete', payload: '7' }]);

  let rendered = 0;
  const render = async () => {
    rendered += 1;
    return { id: '9', unread: true };
  };
  assert.deepEqual(await hear([directChannel(id)], () => ctx.streams.conversation(id, render)), []);
  assert.equal(rendered, 0, 'nobody streams `direct`: nothing rendered');
  await ctx.cache.set(presenceKey(directChannel(id)), '1', 60);
  const conversation = await hear([directChannel(id)], () => ctx.streams.conversation(id, render));
  assert.deepEqual(conversation, [
    { channel: directChannel(id), event: 'conversation', payload: { id: '9', unread: true } },
  ]);

  const merged = await hear([notificationsChannel(id)], () => ctx.streams.notificationsMerged(id));
  assert.deepEqual(merged, [
    { channel: notificationsChannel(id), event: 'notifications_merged', payload: '1' },
  ]);
});

test('a failing pub/sub never fails what publishes: the failure is logged', async () => {
  const lines: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
  const broken: PubSub = {
    publish: async () => {
      throw new Error('redis is down');
    },
    subscribe: async () => async () => {},
    close: async () => {},
  };
  const publisher = new StreamPublisher({ ...ctx, pubsub: broken, log });
  await publisher.tokensRevoked(['1']);
  await publisher.accountClosed('1');
  const author = await newUser();
  const id = await insertStatus(ctx, { accountId: author.account.id });
  await publisher.statusDistributed(id, []);
  assert.equal(lines.length, 3);
  assert.match(lines[0] ?? '', /redis is down/);
});
