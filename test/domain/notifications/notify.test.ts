import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  notify,
  removeNotifications,
  removeStatusNotifications,
} from '../../../src/domain/notifications/notify.ts';
import { updatePolicy } from '../../../src/domain/notifications/policy.ts';
import { ageAccount, createTestUser, type TestUser } from '../../support/accounts.ts';
import { createTestContext, type TestContext } from '../../support/context.ts';
import { block, follow, mute, muteConversation } from '../../support/graph.ts';
import { insertStatus } from '../../support/statuses.ts';

let ctx: TestContext;

before(async () => {
  ctx = await createTestContext();
});

after(async () => {
  await ctx?.close();
});

async function user(): Promise<TestUser> {
  const u = await createTestUser(ctx);
  await ageAccount(ctx, u.account.id, 400);
  return u;
}

async function rowsFor(accountId: string) {
  return ctx.database.query<{ type: string; from_account_id: string; group_key: string; filtered: boolean }>(
    'select type, from_account_id::text, group_key, filtered from notifications where account_id = $1 order by id',
    [accountId],
  );
}

describe('notify', () => {
  test('stores a notification with its status and an ungrouped key for mentions', async () => {
    const [alice, bob] = [await user(), await user()];
    const status = await insertStatus(ctx, { accountId: bob.account.id, mentions: [alice.account.id] });
    const n = await notify(ctx, {
      type: 'mention',
      recipientAccountId: alice.account.id,
      fromAccountId: bob.account.id,
      statusId: status,
    });
    assert.ok(n);
    assert.equal(n.statusId, status);
    assert.equal(n.groupKey, `ungrouped-${n.id}`);
    assert.equal(n.filtered, false);
    assert.equal((await rowsFor(alice.account.id)).length, 1);
  });

  test('nothing about oneself, except a finished poll', async () => {
    const alice = await user();
    const status = await insertStatus(ctx, { accountId: alice.account.id });
    for (const type of ['mention', 'favourite', 'reblog', 'follow'] as const) {
      const n = await notify(ctx, {
        type,
        recipientAccountId: alice.account.id,
        fromAccountId: alice.account.id,
        statusId: type === 'follow' ? null : status,
      });
      assert.equal(n, null, type);
    }
    const poll = await notify(ctx, {
      type: 'poll',
      recipientAccountId: alice.account.id,
      fromAccountId: alice.account.id,
      statusId: status,
    });
    assert.ok(poll);
  });

  test('nothing from a blocked account, nor from one muted with notifications', async () => {
    const [alice, blocked, muted, mutedQuietly, expired] = [
      await user(),
      await user(),
      await user(),
      await user(),
      await user(),
    ];
    await block(ctx, alice.account.id, blocked.account.id);
    await mute(ctx, alice.account.id, muted.account.id);
    await mute(ctx, alice.account.id, mutedQuietly.account.id, { notifications: false });
    await mute(ctx, alice.account.id, expired.account.id, { expiresAt: new Date(Date.now() - 60_000) });
    for (const sender of [blocked, muted]) {
      assert.equal(
        await notify(ctx, {
          type: 'follow',
          recipientAccountId: alice.account.id,
          fromAccountId: sender.account.id,
        }),
        null,
      );
    }
    // A mute without notifications, or an expired one, lets notifications through.
    assert.ok(
      await notify(ctx, {
        type: 'follow',
        recipientAccountId: alice.account.id,
        fromAccountId: mutedQuietly.account.id,
      }),
    );
    assert.ok(
      await notify(ctx, {
        type: 'follow',
        recipientAccountId: alice.account.id,
        fromAccountId: expired.account.id,
      }),
    );
    // A block the other way (the sender blocks the recipient) is never crossed either.
    const blocker = await user();
    await block(ctx, blocker.account.id, alice.account.id);
    assert.equal(
      await notify(ctx, {
        type: 'follow',
        recipientAccountId: alice.account.id,
        fromAccountId: blocker.account.id,
      }),
      null,
    );
  });

  test('visibility matrix: who is notified about a status of each visibility', async () => {
    const expected: Record<string, Record<string, boolean>> = {
      public: { author: false, follower: true, mentioned: true, other: true, blocked: false, muted: false },
      unlisted: { author: false, follower: true, mentioned: true, other: true, blocked: false, muted: false },
      private: { author: false, follower: true, mentioned: true, other: false, blocked: false, muted: false },
      direct: { author: false, follower: false, mentioned: true, other: false, blocked: false, muted: false },
    };
    const author = await user();
    const viewers: Record<string, TestUser> = {
      author,
      follower: await user(),
      mentioned: await user(),
      other: await user(),
      blocked: await user(),
      muted: await user(),
    };
    await follow(ctx, viewers.follower?.account.id ?? '', author.account.id, { daysAgo: 30 });
    // The blocked and muted viewers follow too: the block and the mute alone must keep them out.
    await follow(ctx, viewers.blocked?.account.id ?? '', author.account.id, { daysAgo: 30 });
    await follow(ctx, viewers.muted?.account.id ?? '', author.account.id, { daysAgo: 30 });
    await block(ctx, author.account.id, viewers.blocked?.account.id ?? '');
    await mute(ctx, viewers.muted?.account.id ?? '', author.account.id);
    for (const [visibility, row] of Object.entries(expected)) {
      const status = await insertStatus(ctx, {
        accountId: author.account.id,
        visibility: visibility as 'public',
        mentions: [viewers.mentioned?.account.id ?? ''],
      });
      for (const [name, viewer] of Object.entries(viewers)) {
        for (const type of ['status', 'mention'] as const) {
          const n = await notify(ctx, {
            type,
            recipientAccountId: viewer.account.id,
            fromAccountId: author.account.id,
            statusId: status,
          });
          assert.equal(n !== null, row[name], `${type} about ${visibility} for ${name}`);
        }
      }
    }
  });

  test('nothing for a muted thread, nor for a mention alongside a blocked account', async () => {
    const [alice, bob, carol] = [await user(), await user(), await user()];
    const root = await insertStatus(ctx, { accountId: alice.account.id });
    const reply = await insertStatus(ctx, {
      accountId: bob.account.id,
      mentions: [alice.account.id],
      inReplyToId: root,
      inReplyToAccountId: alice.account.id,
    });
    await muteConversation(ctx, alice.account.id, root);
    assert.equal(
      await notify(ctx, {
        type: 'mention',
        recipientAccountId: alice.account.id,
        fromAccountId: bob.account.id,
        statusId: reply,
      }),
      null,
    );
    assert.equal(
      await notify(ctx, {
        type: 'favourite',
        recipientAccountId: alice.account.id,
        fromAccountId: bob.account.id,
        statusId: root,
      }),
      null,
    );
    await block(ctx, alice.account.id, carol.account.id);
    const withCarol = await insertStatus(ctx, {
      accountId: bob.account.id,
      mentions: [alice.account.id, carol.account.id],
    });
    assert.equal(
      await notify(ctx, {
        type: 'mention',
        recipientAccountId: alice.account.id,
        fromAccountId: bob.account.id,
        statusId: withCarol,
      }),
      null,
    );
  });

  test('nothing for a status that no longer exists, nor for a remote or unknown recipient', async () => {
    const [alice, bob] = [await user(), await user()];
    assert.equal(
      await notify(ctx, {
        type: 'favourite',
        recipientAccountId: alice.account.id,
        fromAccountId: bob.account.id,
        statusId: '12345',
      }),
      null,
    );
    assert.equal(
      await notify(ctx, { type: 'follow', recipientAccountId: '999', fromAccountId: bob.account.id }),
      null,
    );
  });

  test('favourites of one status group under one key; other statuses and types get their own', async () => {
    const alice = await user();
    const fans = [await user(), await user(), await user()];
    const s1 = await insertStatus(ctx, { accountId: alice.account.id });
    const s2 = await insertStatus(ctx, { accountId: alice.account.id });
    const keys: string[] = [];
    for (const fan of fans) {
      const n = await notify(ctx, {
        type: 'favourite',
        recipientAccountId: alice.account.id,
        fromAccountId: fan.account.id,
        statusId: s1,
      });
      assert.ok(n);
      keys.push(n.groupKey);
    }
    assert.equal(new Set(keys).size, 1);
    assert.match(keys[0] ?? '', new RegExp(`^favourite-${s1}-\\d+$`));
    const other = await notify(ctx, {
      type: 'favourite',
      recipientAccountId: alice.account.id,
      fromAccountId: fans[0]?.account.id ?? '',
      statusId: s2,
    });
    assert.notEqual(other?.groupKey, keys[0]);
    const reblog = await notify(ctx, {
      type: 'reblog',
      recipientAccountId: alice.account.id,
      fromAccountId: fans[0]?.account.id ?? '',
      statusId: s1,
    });
    assert.match(reblog?.groupKey ?? '', new RegExp(`^reblog-${s1}-\\d+$`));
    const follows = [];
    for (const fan of fans) {
      follows.push(
        await notify(ctx, {
          type: 'follow',
          recipientAccountId: alice.account.id,
          fromAccountId: fan.account.id,
        }),
      );
    }
    assert.equal(new Set(follows.map((n) => n?.groupKey)).size, 1);
    assert.match(follows[0]?.groupKey ?? '', /^follow-\d+$/);
  });

  test('the bucket of a group is reused for up to twelve hours', async () => {
    const alice = await user();
    const fan = await user();
    const status = await insertStatus(ctx, { accountId: alice.account.id });
    const hour = Math.floor(Date.now() / 3_600_000);
    await ctx.cache.set(`notif-group/${alice.account.id}/favourite-${status}`, String(hour - 11), 3600);
    const n = await notify(ctx, {
      type: 'favourite',
      recipientAccountId: alice.account.id,
      fromAccountId: fan.account.id,
      statusId: status,
    });
    assert.equal(n?.groupKey, `favourite-${status}-${hour - 11}`);
    await ctx.cache.set(`notif-group/${alice.account.id}/follow`, String(hour - 12), 3600);
    const f = await notify(ctx, {
      type: 'follow',
      recipientAccountId: alice.account.id,
      fromAccountId: fan.account.id,
    });
    assert.equal(f?.groupKey, `follow-${hour}`);
  });

  test('private mentions from strangers are filtered into a request; follows and replies are not', async () => {
    const [alice, stranger, friend] = [await user(), await user(), await user()];
    await follow(ctx, alice.account.id, friend.account.id);
    const dm = await insertStatus(ctx, {
      accountId: stranger.account.id,
      visibility: 'direct',
      mentions: [alice.account.id],
    });
    const n = await notify(ctx, {
      type: 'mention',
      recipientAccountId: alice.account.id,
      fromAccountId: stranger.account.id,
      statusId: dm,
    });
    assert.equal(n?.filtered, true);
    assert.equal(n?.groupKey, `ungrouped-${n?.id}`);
    const [request] = await ctx.database.query<{ notifications_count: number; last_status_id: string }>(
      'select notifications_count, last_status_id::text from notification_requests where account_id = $1 and from_account_id = $2',
      [alice.account.id, stranger.account.id],
    );
    assert.equal(request?.notifications_count, 1);
    assert.equal(request?.last_status_id, dm);

    // Someone alice follows may write to her privately.
    const friendly = await insertStatus(ctx, {
      accountId: friend.account.id,
      visibility: 'direct',
      mentions: [alice.account.id],
    });
    const fromFriend = await notify(ctx, {
      type: 'mention',
      recipientAccountId: alice.account.id,
      fromAccountId: friend.account.id,
      statusId: friendly,
    });
    assert.equal(fromFriend?.filtered, false);

    // A direct answer to alice's own private mention of the stranger is a conversation she started.
    const asked = await insertStatus(ctx, {
      accountId: alice.account.id,
      visibility: 'direct',
      mentions: [stranger.account.id],
    });
    const answer = await insertStatus(ctx, {
      accountId: stranger.account.id,
      visibility: 'direct',
      mentions: [alice.account.id],
      inReplyToId: asked,
      inReplyToAccountId: alice.account.id,
    });
    const answered = await notify(ctx, {
      type: 'mention',
      recipientAccountId: alice.account.id,
      fromAccountId: stranger.account.id,
      statusId: answer,
    });
    assert.equal(answered?.filtered, false);

    // A public mention from the stranger is not a private one.
    const open = await insertStatus(ctx, { accountId: stranger.account.id, mentions: [alice.account.id] });
    const publicMention = await notify(ctx, {
      type: 'mention',
      recipientAccountId: alice.account.id,
      fromAccountId: stranger.account.id,
      statusId: open,
    });
    assert.equal(publicMention?.filtered, false);
  });

  test('policy categories: not following, not followers (three days), new accounts; drop; permissions', async () => {
    const alice = await user();
    const [stranger, follower, newFollower, newcomer, accepted] = [
      await user(),
      await user(),
      await user(),
      await createTestUser(ctx),
      await user(),
    ];
    await follow(ctx, follower.account.id, alice.account.id, { daysAgo: 5 });
    await follow(ctx, newFollower.account.id, alice.account.id, { daysAgo: 1 });
    await ctx.database.query(
      'insert into notification_permissions (account_id, from_account_id) values ($1, $2)',
      [alice.account.id, accepted.account.id],
    );

    const followNotice = (from: TestUser) =>
      notify(ctx, { type: 'follow', recipientAccountId: alice.account.id, fromAccountId: from.account.id });

    await updatePolicy(ctx, alice.account.id, { for_not_followers: 'filter' }, 'v2');
    assert.equal((await followNotice(stranger))?.filtered, true);
    assert.equal((await followNotice(follower))?.filtered, false);
    assert.equal((await followNotice(newFollower))?.filtered, true);
    assert.equal((await followNotice(accepted))?.filtered, false);

    await updatePolicy(
      ctx,
      alice.account.id,
      { for_not_followers: 'accept', for_new_accounts: 'drop' },
      'v2',
    );
    assert.equal(await followNotice(newcomer), null);
    assert.equal((await followNotice(stranger))?.filtered, false);

    await updatePolicy(
      ctx,
      alice.account.id,
      { for_new_accounts: 'accept', for_not_following: 'drop' },
      'v2',
    );
    assert.equal(await followNotice(stranger), null);
    assert.ok(await followNotice(accepted));
    // Types outside the policy (a new status from someone one is subscribed to) always arrive.
    const status = await insertStatus(ctx, { accountId: stranger.account.id });
    const subscribed = await notify(ctx, {
      type: 'status',
      recipientAccountId: alice.account.id,
      fromAccountId: stranger.account.id,
      statusId: status,
    });
    assert.equal(subscribed?.filtered, false);
  });

  test('undoing the cause removes the notification, and a request loses its mentions', async () => {
    const [alice, bob] = [await user(), await user()];
    const status = await insertStatus(ctx, { accountId: alice.account.id });
    await notify(ctx, {
      type: 'favourite',
      recipientAccountId: alice.account.id,
      fromAccountId: bob.account.id,
      statusId: status,
    });
    await notify(ctx, {
      type: 'follow',
      recipientAccountId: alice.account.id,
      fromAccountId: bob.account.id,
    });
    await removeNotifications(ctx, { type: 'favourite', fromAccountId: bob.account.id, statusId: status });
    assert.deepEqual(
      (await rowsFor(alice.account.id)).map((r) => r.type),
      ['follow'],
    );
    await removeNotifications(ctx, {
      type: 'follow',
      fromAccountId: bob.account.id,
      recipientAccountId: alice.account.id,
    });
    assert.equal((await rowsFor(alice.account.id)).length, 0);

    const dm = await insertStatus(ctx, {
      accountId: bob.account.id,
      visibility: 'direct',
      mentions: [alice.account.id],
    });
    await notify(ctx, {
      type: 'mention',
      recipientAccountId: alice.account.id,
      fromAccountId: bob.account.id,
      statusId: dm,
    });
    const requests = () =>
      ctx.database.query(
        'select 1 from notification_requests where account_id = $1 and from_account_id = $2',
        [alice.account.id, bob.account.id],
      );
    assert.equal((await requests()).length, 1);
    await removeStatusNotifications(ctx, [dm]);
    assert.equal((await requests()).length, 0);
    assert.equal((await rowsFor(alice.account.id)).length, 0);
  });
});
