import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { notify } from '../../src/domain/notifications/notify.ts';
import { ageAccount, createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';
import { checkSchema } from '../support/openapi.ts';
import { insertStatus } from '../support/statuses.ts';

const api = apiHarness();

type Json = Record<string, unknown>;

async function user(): Promise<TestUser> {
  const u = await createTestUser(api.ctx);
  await ageAccount(api.ctx, u.account.id, 400);
  return u;
}

async function call(who: TestUser, method: 'GET' | 'POST', url: string) {
  const res = await api.inject({ method, url, headers: { authorization: `Bearer ${who.token}` } });
  return { res, status: res.statusCode, body: res.json() as Json };
}

/** Alice gets: 3 favourites of one status, a mention, 2 follows, a favourite of another status. */
async function scenario() {
  const alice = await user();
  const fans = [await user(), await user(), await user()];
  const s1 = await insertStatus(api.ctx, { accountId: alice.account.id });
  const s2 = await insertStatus(api.ctx, { accountId: alice.account.id });
  const ids: Record<string, string> = {};
  const add = async (name: string, p: Promise<{ id: string } | null>) => {
    ids[name] = (await p)?.id ?? '';
  };
  const fav = (from: TestUser, statusId: string) =>
    notify(api.ctx, {
      type: 'favourite',
      recipientAccountId: alice.account.id,
      fromAccountId: from.account.id,
      statusId,
    });
  const follow = (from: TestUser) =>
    notify(api.ctx, { type: 'follow', recipientAccountId: alice.account.id, fromAccountId: from.account.id });
  const [f0, f1, f2] = fans as [TestUser, TestUser, TestUser];
  await add('fav0', fav(f0, s1));
  await add('follow0', follow(f0));
  await add('fav1', fav(f1, s1));
  const mentionStatus = await insertStatus(api.ctx, {
    accountId: f2.account.id,
    mentions: [alice.account.id],
  });
  await add(
    'mention',
    notify(api.ctx, {
      type: 'mention',
      recipientAccountId: alice.account.id,
      fromAccountId: f2.account.id,
      statusId: mentionStatus,
    }),
  );
  await add('follow1', follow(f1));
  await add('fav2', fav(f2, s1));
  await add('otherFav', fav(f0, s2));
  return { alice, fans, s1, s2, mentionStatus, ids };
}

describe('GET /api/v2/notifications', () => {
  test('groups favourites of one status and follows; mentions stay single', async () => {
    const { alice, fans, s1, s2, mentionStatus, ids } = await scenario();
    const { status, body } = await call(alice, 'GET', '/api/v2/notifications');
    assert.equal(status, 200);
    checkSchema(body, 'GroupedNotificationsResults');
    const groups = body.notification_groups as Json[];
    for (const g of groups) checkSchema(g, 'NotificationGroup');
    assert.deepEqual(
      groups.map((g) => [g.type, g.notifications_count]),
      [
        ['favourite', 1],
        ['favourite', 3],
        ['follow', 2],
        ['mention', 1],
      ],
    );
    const [other, favs, follows, mention] = groups as [Json, Json, Json, Json];
    assert.equal(other.status_id, s2);
    assert.equal(favs.status_id, s1);
    assert.match(String(favs.group_key), new RegExp(`^favourite-${s1}-\\d+$`));
    assert.equal(favs.most_recent_notification_id, Number(ids.fav2));
    assert.equal(favs.page_max_id, ids.fav2);
    assert.equal(favs.page_min_id, ids.fav0);
    assert.equal(typeof favs.latest_page_notification_at, 'string');
    assert.deepEqual(favs.sample_account_ids, [
      fans[2]?.account.id,
      fans[1]?.account.id,
      fans[0]?.account.id,
    ]);
    assert.deepEqual(follows.sample_account_ids, [fans[1]?.account.id, fans[0]?.account.id]);
    assert.equal('status_id' in follows, false);
    assert.equal(mention.group_key, `ungrouped-${ids.mention}`);
    assert.equal(mention.status_id, mentionStatus);

    // Each account and status once.
    const accountIds = (body.accounts as Json[]).map((a) => a.id).sort();
    assert.deepEqual(accountIds, fans.map((f) => f.account.id).sort());
    const statusIds = (body.statuses as Json[]).map((s) => s.id).sort();
    assert.deepEqual(statusIds, [s1, s2, mentionStatus].sort());
    assert.equal('partial_accounts' in body, false);

    // The exact id digits are kept in the JSON text, beyond what a JS number holds.
    const raw = (await call(alice, 'GET', '/api/v2/notifications')).res.body;
    assert.ok(raw.includes(`"most_recent_notification_id":${ids.fav2}`));
  });

  test('grouped_types[] narrows grouping; types[] and exclude_types[] filter', async () => {
    const { alice } = await scenario();
    const onlyFollows = (await call(alice, 'GET', '/api/v2/notifications?grouped_types[]=follow')).body;
    const groups = onlyFollows.notification_groups as Json[];
    assert.deepEqual(
      groups.map((g) => [g.type, g.notifications_count]),
      [
        ['favourite', 1],
        ['favourite', 1],
        ['follow', 2],
        ['mention', 1],
        ['favourite', 1],
        ['favourite', 1],
      ],
    );
    for (const g of groups.filter((x) => x.type === 'favourite')) {
      assert.match(String(g.group_key), /^ungrouped-\d+$/);
    }
    const mentions = (await call(alice, 'GET', '/api/v2/notifications?types[]=mention')).body;
    assert.deepEqual(
      (mentions.notification_groups as Json[]).map((g) => g.type),
      ['mention'],
    );
    const noFavs = (await call(alice, 'GET', '/api/v2/notifications?exclude_types[]=favourite')).body;
    assert.deepEqual(
      (noFavs.notification_groups as Json[]).map((g) => g.type),
      ['follow', 'mention'],
    );
  });

  test('pages by groups: limit counts groups, Link cursors are notification ids', async () => {
    const { alice, ids } = await scenario();
    const first = await call(alice, 'GET', '/api/v2/notifications?limit=2');
    const groups = first.body.notification_groups as Json[];
    assert.deepEqual(
      groups.map((g) => g.type),
      ['favourite', 'favourite'],
    );
    // The representative of the three favourites is its newest: the page continues below it.
    const link = String(first.res.headers.link);
    assert.match(link, new RegExp(`max_id=${ids.fav2}>; rel="next"`));
    assert.match(link, new RegExp(`min_id=${ids.otherFav}>; rel="prev"`));
    // A full page spans down to its last representative only: page_min_id stops there (Mastodon's
    // pagination_range), while the count covers the whole group up to the page's top.
    assert.equal((groups[1] as Json).page_min_id, ids.fav2);
    assert.equal((groups[1] as Json).notifications_count, 3);

    const next = await call(alice, 'GET', `/api/v2/notifications?limit=3&max_id=${ids.fav2}`);
    const nextGroups = next.body.notification_groups as Json[];
    assert.deepEqual(
      nextGroups.map((g) => [g.type, g.notifications_count]),
      [
        ['follow', 2],
        ['mention', 1],
        ['favourite', 2],
      ],
    );
    // The favourite group seen again below the cursor counts only what lies below it.
    assert.equal((nextGroups[2] as Json).page_max_id, ids.fav1);
    assert.equal((nextGroups[2] as Json).most_recent_notification_id, Number(ids.fav1));

    const up = await call(alice, 'GET', `/api/v2/notifications?limit=2&min_id=${ids.mention}`);
    assert.deepEqual(
      (up.body.notification_groups as Json[]).map((g) => g.type),
      ['favourite', 'follow'],
    );
  });

  test('expand_accounts=partial_avatars gives full accounts for first samples only', async () => {
    const { alice, fans } = await scenario();
    const { status, body } = await call(
      alice,
      'GET',
      '/api/v2/notifications?expand_accounts=partial_avatars&types[]=favourite',
    );
    assert.equal(status, 200);
    checkSchema(body, 'GroupedNotificationsResults');
    // Groups: s2 (fans[0]) and s1 (fans[2], fans[1], fans[0]).
    assert.deepEqual(
      (body.accounts as Json[]).map((a) => a.id).sort(),
      [fans[0]?.account.id, fans[2]?.account.id].sort(),
    );
    const partial = body.partial_accounts as Json[];
    assert.deepEqual(
      partial.map((a) => a.id),
      [fans[1]?.account.id],
    );
    checkSchema(partial[0], 'PartialAccountWithAvatar');
    assert.deepEqual(Object.keys(partial[0] as Json).sort(), [
      'acct',
      'avatar',
      'avatar_static',
      'bot',
      'id',
      'locked',
      'url',
    ]);

    const bad = await call(alice, 'GET', '/api/v2/notifications?expand_accounts=everything');
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error), /expand_accounts/);
  });

  test('unread_count counts groups', async () => {
    const { alice } = await scenario();
    assert.deepEqual((await call(alice, 'GET', '/api/v2/notifications/unread_count')).body, { count: 4 });
    assert.deepEqual((await call(alice, 'GET', '/api/v2/notifications/unread_count?limit=2')).body, {
      count: 2,
    });
    assert.deepEqual(
      (await call(alice, 'GET', '/api/v2/notifications/unread_count?grouped_types[]=follow')).body,
      { count: 6 },
    );
  });
});

describe('one group', () => {
  test('GET /:group_key, /:group_key/accounts, POST /:group_key/dismiss', async () => {
    const { alice, fans, s1, ids } = await scenario();
    const groups = (await call(alice, 'GET', '/api/v2/notifications')).body.notification_groups as Json[];
    const favKey = String(groups.find((g) => g.status_id === s1)?.group_key);

    const shown = await call(alice, 'GET', `/api/v2/notifications/${favKey}`);
    assert.equal(shown.status, 200);
    checkSchema(shown.body, 'GroupedNotificationsResults');
    const [group] = shown.body.notification_groups as Json[];
    assert.equal(group?.notifications_count, 3);
    assert.equal(group?.group_key, favKey);
    assert.equal('page_min_id' in (group as Json), false);
    assert.equal((shown.body.statuses as Json[])[0]?.id, s1);

    const single = await call(alice, 'GET', `/api/v2/notifications/ungrouped-${ids.mention}`);
    assert.equal(single.status, 200);
    assert.equal((single.body.notification_groups as Json[])[0]?.type, 'mention');

    const fans0 = fans[0] as TestUser;
    assert.equal((await call(fans0, 'GET', `/api/v2/notifications/${favKey}`)).status, 404);
    assert.equal((await call(alice, 'GET', '/api/v2/notifications/favourite-1-1')).status, 404);

    const accounts = await call(alice, 'GET', `/api/v2/notifications/${favKey}/accounts?limit=2`);
    assert.equal(accounts.status, 200);
    const list = accounts.res.json() as Json[];
    assert.deepEqual(
      list.map((a) => a.id),
      [fans[2]?.account.id, fans[1]?.account.id],
    );
    for (const a of list) checkSchema(a, 'Account');
    assert.match(String(accounts.res.headers.link), new RegExp(`max_id=${ids.fav1}>; rel="next"`));
    const rest = await call(alice, 'GET', `/api/v2/notifications/${favKey}/accounts?max_id=${ids.fav1}`);
    assert.deepEqual(
      (rest.res.json() as Json[]).map((a) => a.id),
      [fans[0]?.account.id],
    );
    assert.equal(rest.res.headers.link?.includes('rel="next"'), false);

    const dismissed = await call(fans0, 'POST', `/api/v2/notifications/${favKey}/dismiss`);
    assert.equal(dismissed.status, 200);
    assert.equal((await call(alice, 'GET', `/api/v2/notifications/${favKey}`)).status, 200);
    assert.deepEqual((await call(alice, 'POST', `/api/v2/notifications/${favKey}/dismiss`)).body, {});
    assert.equal((await call(alice, 'GET', `/api/v2/notifications/${favKey}`)).status, 404);
    const after = (await call(alice, 'GET', '/api/v2/notifications')).body.notification_groups as Json[];
    assert.deepEqual(
      after.map((g) => g.type),
      ['favourite', 'follow', 'mention'],
    );

    assert.deepEqual((await call(alice, 'POST', '/api/v2/notifications/clear')).body, {});
    assert.deepEqual((await call(alice, 'GET', '/api/v2/notifications')).body.notification_groups, []);
  });
});
