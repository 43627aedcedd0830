import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { notify } from '../../src/domain/notifications/notify.ts';
import { ageAccount, createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';
import { block, follow, mute } from '../support/graph.ts';
import { checkSchema } from '../support/openapi.ts';
import { insertStatus } from '../support/statuses.ts';

const api = apiHarness();

async function user(scopes?: string[]): Promise<TestUser> {
  const u = await createTestUser(api.ctx, scopes ? { scopes } : {});
  await ageAccount(api.ctx, u.account.id, 400);
  return u;
}

async function call(
  who: TestUser,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  url: string,
  payload?: Record<string, unknown>,
) {
  const res = await api.inject({
    method,
    url,
    headers: { authorization: `Bearer ${who.token}` },
    ...(payload ? { payload } : {}),
  });
  return { res, status: res.statusCode, body: res.body === '' ? undefined : res.json() };
}

type Json = Record<string, unknown>;

describe('GET /api/v1/notifications', () => {
  test('lists mentions, favourites, reblogs and follows newest first with their accounts and statuses', async () => {
    const [alice, bob] = [await user(), await user()];
    const own = await insertStatus(api.ctx, { accountId: alice.account.id, text: 'mine' });
    const mention = await insertStatus(api.ctx, { accountId: bob.account.id, mentions: [alice.account.id] });
    await notify(api.ctx, {
      type: 'mention',
      recipientAccountId: alice.account.id,
      fromAccountId: bob.account.id,
      statusId: mention,
    });
    await notify(api.ctx, {
      type: 'favourite',
      recipientAccountId: alice.account.id,
      fromAccountId: bob.account.id,
      statusId: own,
    });
    await notify(api.ctx, {
      type: 'reblog',
      recipientAccountId: alice.account.id,
      fromAccountId: bob.account.id,
      statusId: own,
    });
    await notify(api.ctx, {
      type: 'follow',
      recipientAccountId: alice.account.id,
      fromAccountId: bob.account.id,
    });

    const { status, body } = await call(alice, 'GET', '/api/v1/notifications');
    assert.equal(status, 200);
    const list = body as Json[];
    assert.deepEqual(
      list.map((n) => n.type),
      ['follow', 'reblog', 'favourite', 'mention'],
    );
    for (const n of list) {
      checkSchema(n, 'Notification');
      assert.equal((n.account as Json).id, bob.account.id);
      assert.equal('filtered' in n, false);
    }
    assert.equal('status' in (list[0] as Json), false);
    assert.equal(((list[1] as Json).status as Json).id, own);
    assert.equal(((list[3] as Json).status as Json).id, mention);
    assert.match(String((list[1] as Json).group_key), new RegExp(`^reblog-${own}-\\d+$`));
    assert.equal((list[3] as Json).group_key, `ungrouped-${(list[3] as Json).id}`);

    // Bob sees none of them.
    assert.deepEqual((await call(bob, 'GET', '/api/v1/notifications')).body, []);
  });

  test('types[], exclude_types[], account_id, and Link pagination with max_id / min_id', async () => {
    const [alice, bob, carol] = [await user(), await user(), await user()];
    const own = await insertStatus(api.ctx, { accountId: alice.account.id });
    const ids: string[] = [];
    for (const from of [bob, carol, bob, carol]) {
      const n = await notify(api.ctx, {
        type: 'favourite',
        recipientAccountId: alice.account.id,
        fromAccountId: from.account.id,
        statusId: own,
      });
      ids.push(n?.id ?? '');
    }
    const f = await notify(api.ctx, {
      type: 'follow',
      recipientAccountId: alice.account.id,
      fromAccountId: carol.account.id,
    });
    ids.push(f?.id ?? '');

    const only = await call(alice, 'GET', '/api/v1/notifications?types[]=follow');
    assert.deepEqual(
      (only.body as Json[]).map((n) => n.id),
      [f?.id],
    );
    const single = await call(alice, 'GET', '/api/v1/notifications?types=follow');
    assert.deepEqual(
      (single.body as Json[]).map((n) => n.id),
      [f?.id],
    );
    const excluded = await call(
      alice,
      'GET',
      '/api/v1/notifications?exclude_types[]=follow&exclude_types[]=mention',
    );
    assert.equal((excluded.body as Json[]).length, 4);
    const unknown = await call(alice, 'GET', '/api/v1/notifications?types[]=nonsense');
    assert.deepEqual(unknown.body, []);
    const fromBob = await call(alice, 'GET', `/api/v1/notifications?account_id=${bob.account.id}`);
    assert.deepEqual(
      (fromBob.body as Json[]).map((n) => n.id),
      [ids[2], ids[0]],
    );

    const first = await call(alice, 'GET', '/api/v1/notifications?limit=2');
    assert.deepEqual(
      (first.body as Json[]).map((n) => n.id),
      [ids[4], ids[3]],
    );
    const link = String(first.res.headers.link);
    assert.match(link, new RegExp(`max_id=${ids[3]}>; rel="next"`));
    assert.match(link, new RegExp(`min_id=${ids[4]}>; rel="prev"`));
    assert.match(link, /limit=2/);
    const next = await call(alice, 'GET', `/api/v1/notifications?limit=2&max_id=${ids[3]}`);
    assert.deepEqual(
      (next.body as Json[]).map((n) => n.id),
      [ids[2], ids[1]],
    );
    const after = await call(alice, 'GET', `/api/v1/notifications?limit=2&min_id=${ids[0]}`);
    assert.deepEqual(
      (after.body as Json[]).map((n) => n.id),
      [ids[2], ids[1]],
    );
    const since = await call(alice, 'GET', `/api/v1/notifications?limit=2&since_id=${ids[0]}`);
    assert.deepEqual(
      (since.body as Json[]).map((n) => n.id),
      [ids[4], ids[3]],
    );
    assert.equal((await call(alice, 'GET', '/api/v1/notifications?max_id=abc')).status, 400);
  });

  test('needs a user token with read:notifications', async () => {
    const noRead = await user(['write']);
    assert.equal((await call(noRead, 'GET', '/api/v1/notifications')).status, 403);
    const narrow = await user(['read:notifications']);
    assert.equal((await call(narrow, 'GET', '/api/v1/notifications')).status, 200);
    assert.equal((await call(narrow, 'POST', '/api/v1/notifications/clear')).status, 403);
    assert.equal((await api.inject({ method: 'GET', url: '/api/v1/notifications' })).statusCode, 401);
  });

  test('a notification about a deleted status is not shown', async () => {
    const [alice, bob] = [await user(), await user()];
    const own = await insertStatus(api.ctx, { accountId: alice.account.id });
    const n = await notify(api.ctx, {
      type: 'favourite',
      recipientAccountId: alice.account.id,
      fromAccountId: bob.account.id,
      statusId: own,
    });
    await api.ctx.database.query('delete from statuses where id = $1', [own]);
    assert.deepEqual((await call(alice, 'GET', '/api/v1/notifications')).body, []);
    assert.equal((await call(alice, 'GET', `/api/v1/notifications/${n?.id}`)).status, 404);
  });
});

describe('single notifications', () => {
  test('GET /:id, POST /:id/dismiss, unread_count and clear', async () => {
    const [alice, bob, carol] = [await user(), await user(), await user()];
    const a = await notify(api.ctx, {
      type: 'follow',
      recipientAccountId: alice.account.id,
      fromAccountId: bob.account.id,
    });
    const b = await notify(api.ctx, {
      type: 'follow',
      recipientAccountId: alice.account.id,
      fromAccountId: carol.account.id,
    });
    const shown = await call(alice, 'GET', `/api/v1/notifications/${a?.id}`);
    assert.equal(shown.status, 200);
    checkSchema(shown.body, 'Notification');
    assert.equal((shown.body as Json).id, a?.id);
    assert.equal((await call(bob, 'GET', `/api/v1/notifications/${a?.id}`)).status, 404);
    assert.equal((await call(alice, 'GET', '/api/v1/notifications/nope')).status, 404);
    assert.equal((await call(alice, 'GET', '/api/v1/notifications/12345')).status, 404);

    assert.deepEqual((await call(alice, 'GET', '/api/v1/notifications/unread_count')).body, { count: 2 });
    assert.deepEqual((await call(alice, 'GET', '/api/v1/notifications/unread_count?limit=1')).body, {
      count: 1,
    });

    assert.equal((await call(bob, 'POST', `/api/v1/notifications/${a?.id}/dismiss`)).status, 404);
    const dismissed = await call(alice, 'POST', `/api/v1/notifications/${a?.id}/dismiss`);
    assert.equal(dismissed.status, 200);
    assert.deepEqual(dismissed.body, {});
    assert.equal((await call(alice, 'GET', `/api/v1/notifications/${a?.id}`)).status, 404);
    assert.equal((await call(alice, 'POST', `/api/v1/notifications/${a?.id}/dismiss`)).status, 404);
    assert.deepEqual((await call(alice, 'GET', '/api/v1/notifications/unread_count')).body, { count: 1 });

    const carolFollowsBob = await notify(api.ctx, {
      type: 'follow',
      recipientAccountId: bob.account.id,
      fromAccountId: carol.account.id,
    });
    const cleared = await call(alice, 'POST', '/api/v1/notifications/clear');
    assert.equal(cleared.status, 200);
    assert.deepEqual(cleared.body, {});
    assert.deepEqual((await call(alice, 'GET', '/api/v1/notifications')).body, []);
    assert.equal((await call(alice, 'GET', `/api/v1/notifications/${b?.id}`)).status, 404);
    // Only her own notifications went.
    assert.equal((await call(bob, 'GET', `/api/v1/notifications/${carolFollowsBob?.id}`)).status, 200);
  });
});

describe('muted and blocked senders', () => {
  test('produce no notifications', async () => {
    const [alice, blocked, muted, blocker] = [await user(), await user(), await user(), await user()];
    await block(api.ctx, alice.account.id, blocked.account.id);
    await mute(api.ctx, alice.account.id, muted.account.id);
    await block(api.ctx, blocker.account.id, alice.account.id);
    const own = await insertStatus(api.ctx, { accountId: alice.account.id });
    for (const from of [blocked, muted, blocker]) {
      await notify(api.ctx, {
        type: 'favourite',
        recipientAccountId: alice.account.id,
        fromAccountId: from.account.id,
        statusId: own,
      });
      await notify(api.ctx, {
        type: 'follow',
        recipientAccountId: alice.account.id,
        fromAccountId: from.account.id,
      });
    }
    assert.deepEqual((await call(alice, 'GET', '/api/v1/notifications?include_filtered=true')).body, []);
  });
});

describe('notification policy', () => {
  test('v1 and v2 shapes, defaults, updates, and refusal of unknown values', async () => {
    const alice = await user();
    const v2 = await call(alice, 'GET', '/api/v2/notifications/policy');
    assert.equal(v2.status, 200);
    checkSchema(v2.body, 'NotificationPolicy');
    assert.deepEqual(v2.body, {
      for_not_following: 'accept',
      for_not_followers: 'accept',
      for_new_accounts: 'accept',
      for_private_mentions: 'filter',
      for_limited_accounts: 'filter',
      summary: { pending_requests_count: 0, pending_notifications_count: 0 },
    });
    const v1 = await call(alice, 'GET', '/api/v1/notifications/policy');
    checkSchema(v1.body, 'V1NotificationPolicy');
    assert.deepEqual(v1.body, {
      filter_not_following: false,
      filter_not_followers: false,
      filter_new_accounts: false,
      filter_private_mentions: true,
      summary: { pending_requests_count: 0, pending_notifications_count: 0 },
    });

    const patched = await call(alice, 'PATCH', '/api/v2/notifications/policy', {
      for_not_following: 'drop',
      for_new_accounts: 'filter',
    });
    assert.equal(patched.status, 200);
    assert.equal((patched.body as Json).for_not_following, 'drop');
    assert.equal((patched.body as Json).for_new_accounts, 'filter');
    const v1After = await call(alice, 'PUT', '/api/v1/notifications/policy', {
      filter_private_mentions: 'false',
    });
    assert.equal(v1After.status, 200);
    assert.equal((v1After.body as Json).filter_not_following, true);
    assert.equal((v1After.body as Json).filter_private_mentions, false);
    assert.equal(
      ((await call(alice, 'GET', '/api/v2/notifications/policy')).body as Json).for_private_mentions,
      'accept',
    );

    const bad = await call(alice, 'PATCH', '/api/v2/notifications/policy', {
      for_not_followers: 'filter',
      for_new_accounts: 'sometimes',
    });
    assert.equal(bad.status, 422);
    assert.match(String((bad.body as Json).error), /For new accounts/);
    assert.ok(((bad.body as Json).details as Json).for_new_accounts);
    // Nothing changed, not even the valid field.
    assert.equal(
      ((await call(alice, 'GET', '/api/v2/notifications/policy')).body as Json).for_not_followers,
      'accept',
    );

    const readOnly = await user(['read']);
    assert.equal(
      (await call(readOnly, 'PATCH', '/api/v2/notifications/policy', { for_not_following: 'drop' })).status,
      403,
    );
  });
});

describe('notification requests', () => {
  test('filter → request → accept → notifications visible, and later ones arrive unfiltered', async () => {
    const [alice, stranger] = [await user(), await user()];
    const dm1 = await insertStatus(api.ctx, {
      accountId: stranger.account.id,
      visibility: 'direct',
      mentions: [alice.account.id],
    });
    const dm2 = await insertStatus(api.ctx, {
      accountId: stranger.account.id,
      visibility: 'direct',
      mentions: [alice.account.id],
    });
    for (const s of [dm1, dm2]) {
      const n = await notify(api.ctx, {
        type: 'mention',
        recipientAccountId: alice.account.id,
        fromAccountId: stranger.account.id,
        statusId: s,
      });
      assert.equal(n?.filtered, true);
    }
    assert.deepEqual((await call(alice, 'GET', '/api/v1/notifications')).body, []);
    assert.deepEqual((await call(alice, 'GET', '/api/v1/notifications/unread_count')).body, { count: 0 });
    const withFiltered = (await call(alice, 'GET', '/api/v1/notifications?include_filtered=true'))
      .body as Json[];
    assert.equal(withFiltered.length, 2);
    assert.equal(withFiltered[0]?.filtered, true);
    checkSchema(withFiltered[0], 'Notification');

    const policy = (await call(alice, 'GET', '/api/v2/notifications/policy')).body as Json;
    assert.deepEqual(policy.summary, { pending_requests_count: 1, pending_notifications_count: 2 });

    const list = await call(alice, 'GET', '/api/v1/notifications/requests');
    assert.equal(list.status, 200);
    const requests = list.body as Json[];
    assert.equal(requests.length, 1);
    const request = requests[0] as Json;
    checkSchema(request, 'NotificationRequest');
    assert.equal(request.notifications_count, '2');
    assert.equal((request.account as Json).id, stranger.account.id);
    assert.equal((request.last_status as Json).id, dm2);

    const shown = await call(alice, 'GET', `/api/v1/notifications/requests/${request.id}`);
    assert.equal(shown.status, 200);
    assert.equal((shown.body as Json).id, request.id);
    assert.equal((await call(stranger, 'GET', `/api/v1/notifications/requests/${request.id}`)).status, 404);
    assert.equal(
      (await call(stranger, 'POST', `/api/v1/notifications/requests/${request.id}/accept`)).status,
      404,
    );

    const accepted = await call(alice, 'POST', `/api/v1/notifications/requests/${request.id}/accept`);
    assert.equal(accepted.status, 200);
    assert.deepEqual(accepted.body, {});
    assert.deepEqual((await call(alice, 'GET', '/api/v1/notifications/requests/merged')).body, {
      merged: true,
    });
    const visible = (await call(alice, 'GET', '/api/v1/notifications')).body as Json[];
    assert.deepEqual(
      visible.map((n) => (n.status as Json).id),
      [dm2, dm1],
    );
    assert.deepEqual((await call(alice, 'GET', '/api/v1/notifications/requests')).body, []);
    assert.equal((await call(alice, 'GET', `/api/v1/notifications/requests/${request.id}`)).status, 404);

    const dm3 = await insertStatus(api.ctx, {
      accountId: stranger.account.id,
      visibility: 'direct',
      mentions: [alice.account.id],
    });
    const later = await notify(api.ctx, {
      type: 'mention',
      recipientAccountId: alice.account.id,
      fromAccountId: stranger.account.id,
      statusId: dm3,
    });
    assert.equal(later?.filtered, false);
  });

  test('dismiss drops the filtered notifications; bulk accept and dismiss take id[]', async () => {
    const alice = await user();
    const senders = [await user(), await user(), await user()];
    for (const s of senders) {
      const dm = await insertStatus(api.ctx, {
        accountId: s.account.id,
        visibility: 'direct',
        mentions: [alice.account.id],
      });
      await notify(api.ctx, {
        type: 'mention',
        recipientAccountId: alice.account.id,
        fromAccountId: s.account.id,
        statusId: dm,
      });
    }
    const requests = (await call(alice, 'GET', '/api/v1/notifications/requests?limit=2')).body as Json[];
    assert.equal(requests.length, 2);
    const all = (await call(alice, 'GET', '/api/v1/notifications/requests')).body as Json[];
    const idFor = (u: TestUser) => String(all.find((r) => (r.account as Json).id === u.account.id)?.id);

    const dismissed = await call(
      alice,
      'POST',
      `/api/v1/notifications/requests/${idFor(senders[0] as TestUser)}/dismiss`,
    );
    assert.equal(dismissed.status, 200);
    assert.deepEqual(
      (
        (await call(alice, 'GET', `/api/v1/notifications?account_id=${senders[0]?.account.id}`))
          .body as Json[]
      ).length,
      0,
    );

    const bulk = await call(alice, 'POST', '/api/v1/notifications/requests/accept', {
      id: [idFor(senders[1] as TestUser), 'junk', '1'],
    });
    assert.equal(bulk.status, 200);
    const visible = (await call(alice, 'GET', '/api/v1/notifications')).body as Json[];
    assert.deepEqual(
      visible.map((n) => (n.account as Json).id),
      [senders[1]?.account.id],
    );
    await call(alice, 'POST', '/api/v1/notifications/requests/dismiss', {
      id: [idFor(senders[2] as TestUser)],
    });
    assert.deepEqual((await call(alice, 'GET', '/api/v1/notifications/requests')).body, []);
    assert.deepEqual(((await call(alice, 'GET', '/api/v2/notifications/policy')).body as Json).summary, {
      pending_requests_count: 0,
      pending_notifications_count: 0,
    });
  });

  test('a follower of three days is not filtered by "not followers"; a fresh one is', async () => {
    const [alice, old, fresh] = [await user(), await user(), await user()];
    await follow(api.ctx, old.account.id, alice.account.id, { daysAgo: 10 });
    await follow(api.ctx, fresh.account.id, alice.account.id, { daysAgo: 0 });
    await call(alice, 'PATCH', '/api/v2/notifications/policy', { for_not_followers: 'filter' });
    for (const from of [old, fresh]) {
      const s = await insertStatus(api.ctx, { accountId: from.account.id, mentions: [alice.account.id] });
      await notify(api.ctx, {
        type: 'mention',
        recipientAccountId: alice.account.id,
        fromAccountId: from.account.id,
        statusId: s,
      });
    }
    const visible = (await call(alice, 'GET', '/api/v1/notifications')).body as Json[];
    assert.deepEqual(
      visible.map((n) => (n.account as Json).id),
      [old.account.id],
    );
    const requests = (await call(alice, 'GET', '/api/v1/notifications/requests')).body as Json[];
    assert.deepEqual(
      requests.map((r) => (r.account as Json).id),
      [fresh.account.id],
    );
  });
});
