import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import {
  accountStats,
  notifications,
  polls,
  scheduledStatuses,
  statusTags,
  tags,
} from '../../src/db/schema/index.ts';
import { publishScheduledStatus } from '../../src/domain/statuses/scheduled.ts';
import type { Job } from '../../src/infra/queue/queue.ts';
import { createJobRegistry } from '../../src/jobs/index.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';
import { follow } from '../support/graph.ts';
import { checkSchema } from '../support/openapi.ts';

const api = apiHarness();
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;

const schema = checkSchema;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely, field by field.
type Json = Record<string, any>;

async function call(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  user?: TestUser,
  payload?: object,
  headers: Record<string, string> = {},
) {
  const res = await api.inject({
    method,
    url,
    headers: { ...(user ? { authorization: `Bearer ${user.token}` } : {}), ...headers },
    ...(payload ? { payload } : {}),
  });
  return { status: res.statusCode, body: res.body ? (res.json() as Json) : {}, headers: res.headers };
}

async function post(user: TestUser, payload: object, headers: Record<string, string> = {}) {
  return call('POST', '/api/v1/statuses', user, payload, headers);
}

api.before(async () => {
  alice = await createTestUser(api.ctx, { username: 'alice' });
  bob = await createTestUser(api.ctx, { username: 'bob' });
  carol = await createTestUser(api.ctx, { username: 'carol' });
});

describe('POST /api/v1/statuses', () => {
  test('creates a status with Mastodon HTML, mentions, tags and counters', async () => {
    const res = await post(alice, {
      status:
        'Hello @bob and @nobody! See https://example.com/a/very/long/path/that/is/cut #Woolly\n\nNew <b>paragraph</b>',
      visibility: 'public',
      language: 'en',
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    schema(res.body, 'Status');
    const s = res.body;
    assert.equal(s.visibility, 'public');
    assert.equal(s.language, 'en');
    assert.equal(s.account.id, alice.account.id);
    assert.equal(s.favourited, false);
    assert.equal(s.pinned, false);
    assert.match(s.uri, /^https:\/\/woolly\.test\/users\/alice\/statuses\/\d+$/);
    assert.match(s.url, /^https:\/\/woolly\.test\/@alice\/\d+$/);
    assert.equal(
      s.content,
      '<p>Hello <span class="h-card" translate="no"><a href="https://woolly.test/@bob" class="u-url mention">@<span>bob</span></a></span> and @nobody! See ' +
        '<a href="https://example.com/a/very/long/path/that/is/cut" target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">https://</span><span class="ellipsis">example.com/a/very/long/path/t</span><span class="invisible">hat/is/cut</span></a> ' +
        '<a href="https://woolly.test/tags/Woolly" class="mention hashtag" rel="tag">#<span>Woolly</span></a></p><p>New &lt;b&gt;paragraph&lt;/b&gt;</p>',
    );
    assert.deepEqual(s.mentions, [
      { id: bob.account.id, username: 'bob', url: 'https://woolly.test/@bob', acct: 'bob' },
    ]);
    assert.deepEqual(s.tags, [{ name: 'woolly', url: 'https://woolly.test/tags/woolly' }]);
    const [stats] = await api.ctx.database.db
      .select()
      .from(accountStats)
      .where(eq(accountStats.accountId, alice.account.id));
    assert.equal(stats?.statusesCount, 1);
    assert.ok(stats?.lastStatusAt);
    // Bob was notified of the mention.
    const notes = await api.ctx.database.db
      .select()
      .from(notifications)
      .where(eq(notifications.accountId, bob.account.id));
    assert.ok(notes.some((n) => n.type === 'mention' && n.statusId === s.id));
  });

  test('hashtags are recorded once, case-insensitively', async () => {
    await post(alice, { status: '#CaseTag #casetag #CASETAG' });
    const rows = await api.ctx.database.db.select().from(tags).where(eq(tags.name, 'casetag'));
    assert.equal(rows.length, 1);
    const links = await api.ctx.database.db
      .select()
      .from(statusTags)
      .where(eq(statusTags.tagId, rows[0]!.id));
    assert.equal(links.length, 1);
  });

  test('text limits: 500 graphemes, a URL counts 23', async () => {
    const ok = await post(alice, { status: '👍🏽'.repeat(500) });
    assert.equal(ok.status, 200);
    const tooLong = await post(alice, { status: 'a'.repeat(501) });
    assert.equal(tooLong.status, 422);
    assert.equal(tooLong.body.error, 'Validation failed: Text character limit of 500 exceeded');
    const withCw = await post(alice, { status: 'a'.repeat(490), spoiler_text: 'b'.repeat(11) });
    assert.equal(withCw.status, 422);
    const url = `https://example.com/${'x'.repeat(200)}`;
    const withUrl = await post(alice, { status: `${'a'.repeat(476)} ${url}` });
    assert.equal(withUrl.status, 200, JSON.stringify(withUrl.body));
  });

  test('bad input is refused with the reason and changes nothing', async () => {
    const [before] = await api.ctx.database.db
      .select()
      .from(accountStats)
      .where(eq(accountStats.accountId, alice.account.id));
    const cases: [object, number, RegExp][] = [
      [{ status: 'x', visibility: 'secret' }, 422, /Visibility is not included in the list/],
      [{ status: '' }, 422, /Text can't be blank/],
      [
        { status: 'x', poll: { options: ['a', 'b', 'c', 'd', 'e'], expires_in: 600 } },
        422,
        /Poll options can't contain more than 4 items/,
      ],
      [{ status: 'x', poll: { options: ['a'], expires_in: 600 } }, 422, /must have more than one item/],
      [{ status: 'x', poll: { options: ['a', 'b'], expires_in: 60 } }, 422, /Poll expires in is too soon/],
      [
        { status: 'x', poll: { options: ['a', 'b'], expires_in: 99_999_999 } },
        422,
        /is too far into the future/,
      ],
      [{ status: 'x', poll: { options: ['a', 'a'], expires_in: 600 } }, 422, /duplicate/],
      [{ status: 'x', media_ids: ['123'] }, 422, /Media 123 not found/],
      [{ status: 'x', in_reply_to_id: '999999' }, 404, /does not appear to exist/],
      [{ status: 'x', scheduled_at: 'not a date' }, 422, /Invalid date supplied/],
      [
        { status: 'x', scheduled_at: new Date(Date.now() + 60_000).toISOString() },
        422,
        /Scheduled at date must be in the future/,
      ],
    ];
    for (const [payload, status, message] of cases) {
      const res = await post(alice, payload);
      assert.equal(res.status, status, JSON.stringify(payload));
      assert.match(res.body.error, message, JSON.stringify(payload));
    }
    const [afterwards] = await api.ctx.database.db
      .select()
      .from(accountStats)
      .where(eq(accountStats.accountId, alice.account.id));
    assert.equal(afterwards?.statusesCount, before?.statusesCount);
  });

  test('allowed_mentions refuses unexpected mentions, listing the accounts', async () => {
    const res = await post(alice, { status: '@bob @carol hi', allowed_mentions: [bob.account.id] });
    assert.equal(res.status, 422);
    assert.equal(res.body.error, 'Post would be sent to unexpected accounts');
    assert.deepEqual(
      res.body.unexpected_accounts.map((a: Json) => a.id),
      [carol.account.id],
    );
  });

  test('an unconfirmed account may not post (403)', async () => {
    const unconfirmed = await createTestUser(api.ctx, { confirmed: false });
    const res = await post(unconfirmed, { status: 'hi' });
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'Your login is missing a confirmed e-mail address');
  });

  test('a repeated Idempotency-Key returns the first status', async () => {
    const first = await post(alice, { status: 'once' }, { 'idempotency-key': 'abc-123' });
    const second = await post(alice, { status: 'once' }, { 'idempotency-key': 'abc-123' });
    assert.equal(first.status, 200);
    assert.equal(second.body.id, first.body.id);
    // Per account: another user's identical key is independent.
    const other = await post(bob, { status: 'once' }, { 'idempotency-key': 'abc-123' });
    assert.notEqual(other.body.id, first.body.id);
  });

  test('replies inherit the thread; replies_count counts public ones', async () => {
    const root = await post(alice, { status: 'root' });
    const reply = await post(bob, { status: '@alice reply', in_reply_to_id: root.body.id });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.in_reply_to_id, root.body.id);
    assert.equal(reply.body.in_reply_to_account_id, alice.account.id);
    const again = await call('GET', `/api/v1/statuses/${root.body.id}`, alice);
    assert.equal(again.body.replies_count, 1);
    const secret = await post(alice, { status: 'secret', visibility: 'direct' });
    const refused = await post(bob, { status: 'sneaky', in_reply_to_id: secret.body.id });
    assert.equal(refused.status, 404);
  });

  test('polls: created, shown, voted on', async () => {
    const res = await post(alice, {
      status: 'Pick one',
      poll: { options: ['tea', 'coffee'], expires_in: 3600, hide_totals: 'true' },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const poll = res.body.poll;
    schema(poll, 'Poll');
    assert.deepEqual(poll.options, [
      { title: 'tea', votes_count: null },
      { title: 'coffee', votes_count: null },
    ]);
    assert.equal(poll.voted, true); // the author's own poll
    const own = await call('POST', `/api/v1/polls/${poll.id}/votes`, alice, { choices: ['0'] });
    assert.equal(own.status, 422);
    assert.match(own.body.error, /You cannot vote in your own polls/);
    const voted = await call('POST', `/api/v1/polls/${poll.id}/votes`, bob, { choices: ['1'] });
    assert.equal(voted.status, 200, JSON.stringify(voted.body));
    assert.deepEqual(voted.body.own_votes, [1]);
    assert.equal(voted.body.votes_count, 1);
    const twice = await call('POST', `/api/v1/polls/${poll.id}/votes`, bob, { choices: ['0'] });
    assert.equal(twice.status, 422);
    assert.match(twice.body.error, /already voted/);
    const bad = await call('POST', `/api/v1/polls/${poll.id}/votes`, carol, { choices: ['7'] });
    assert.equal(bad.status, 422);
    const anonymous = await call('GET', `/api/v1/polls/${poll.id}`);
    assert.equal(anonymous.status, 200);
    assert.equal(anonymous.body.voted, undefined);
    assert.equal((await call('GET', '/api/v1/polls/123')).status, 404);
  });

  test('scheduled statuses: created, listed, moved, published, cancelled', async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const res = await post(alice, { status: 'later', scheduled_at: at, visibility: 'unlisted' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.scheduled_at, at);
    assert.equal(res.body.params.text, 'later');
    assert.equal(res.body.params.visibility, 'unlisted');
    const list = await call('GET', '/api/v1/scheduled_statuses', alice);
    assert.deepEqual(
      list.body.map((s: Json) => s.id),
      [res.body.id],
    );
    assert.equal((await call('GET', `/api/v1/scheduled_statuses/${res.body.id}`, bob)).status, 404);
    const later = new Date(Date.now() + 7_200_000).toISOString();
    const moved = await call('PUT', `/api/v1/scheduled_statuses/${res.body.id}`, alice, {
      scheduled_at: later,
    });
    assert.equal(moved.body.scheduled_at, later);
    // Due: the scheduler publishes it.
    await api.ctx.database.db
      .update(scheduledStatuses)
      .set({ scheduledAt: new Date(Date.now() - 1000) })
      .where(eq(scheduledStatuses.id, res.body.id));
    const published = await publishScheduledStatus(api.ctx, res.body.id);
    assert.equal(published?.text, 'later');
    assert.equal(published?.visibility, 'unlisted');
    assert.equal((await call('GET', `/api/v1/scheduled_statuses/${res.body.id}`, alice)).status, 404);
    const another = await post(alice, { status: 'never', scheduled_at: at });
    assert.equal((await call('DELETE', `/api/v1/scheduled_statuses/${another.body.id}`, alice)).status, 200);
    assert.equal((await call('GET', '/api/v1/scheduled_statuses', alice)).body.length, 0);
  });
});

describe('reading, editing, deleting', () => {
  test('GET one, several, unknown; edit with history and source; delete returns the source', async () => {
    const created = await post(alice, { status: 'first #one', spoiler_text: 'cw' });
    const id = created.body.id;
    assert.equal(created.body.sensitive, true);
    assert.equal((await call('GET', '/api/v1/statuses/1')).status, 404);
    assert.equal((await call('GET', '/api/v1/statuses/nope')).status, 404);
    const many = await call('GET', `/api/v1/statuses?id[]=${id}&id[]=1`);
    assert.deepEqual(
      many.body.map((s: Json) => s.id),
      [id],
    );
    assert.equal((await call('POST', `/api/v1/statuses/${id}/reblog`, bob)).status, 200);
    const edited = await call('PUT', `/api/v1/statuses/${id}`, alice, {
      status: 'second #two',
      spoiler_text: '',
    });
    assert.equal(edited.status, 200, JSON.stringify(edited.body));
    assert.ok(edited.body.edited_at);
    assert.equal(
      edited.body.content,
      '<p>second <a href="https://woolly.test/tags/two" class="mention hashtag" rel="tag">#<span>two</span></a></p>',
    );
    assert.deepEqual(
      edited.body.tags.map((t: Json) => t.name),
      ['two'],
    );
    // Those who boosted it hear of the edit.
    const updates = await api.ctx.database.db
      .select()
      .from(notifications)
      .where(eq(notifications.accountId, bob.account.id));
    assert.ok(updates.some((n) => n.type === 'update' && n.statusId === id));
    const history = await call('GET', `/api/v1/statuses/${id}/history`);
    assert.equal(history.body.length, 2);
    for (const version of history.body as unknown as unknown[]) schema(version, 'StatusEdit');
    assert.match(history.body[0].content, /first/);
    assert.equal(history.body[0].spoiler_text, 'cw');
    assert.match(history.body[1].content, /second/);
    const source = await call('GET', `/api/v1/statuses/${id}/source`, alice);
    schema(source.body, 'StatusSource');
    assert.deepEqual(source.body, { id, text: 'second #two', spoiler_text: '' });
    assert.equal((await call('PUT', `/api/v1/statuses/${id}`, bob, { status: 'hijack' })).status, 404);
    assert.equal((await call('DELETE', `/api/v1/statuses/${id}`, bob)).status, 404);
    const deleted = await call('DELETE', `/api/v1/statuses/${id}`, alice);
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.text, 'second #two');
    assert.equal(deleted.body.content, undefined);
    assert.equal((await call('GET', `/api/v1/statuses/${id}`)).status, 404);
  });

  test('context: ancestors oldest first, descendants depth first', async () => {
    const a = (await post(alice, { status: 'a' })).body.id;
    const b = (await post(bob, { status: 'b', in_reply_to_id: a })).body.id;
    const c = (await post(alice, { status: 'c', in_reply_to_id: b })).body.id;
    const d = (await post(carol, { status: 'd', in_reply_to_id: a })).body.id;
    const hidden = (await post(bob, { status: 'hidden', in_reply_to_id: a, visibility: 'direct' })).body.id;
    const fromB = await call('GET', `/api/v1/statuses/${b}/context`, carol);
    schema(fromB.body, 'Context');
    assert.deepEqual(
      fromB.body.ancestors.map((s: Json) => s.id),
      [a],
    );
    assert.deepEqual(
      fromB.body.descendants.map((s: Json) => s.id),
      [c],
    );
    const fromA = await call('GET', `/api/v1/statuses/${a}/context`);
    assert.deepEqual(
      fromA.body.descendants.map((s: Json) => s.id),
      [b, c, d],
    );
    const asBob = await call('GET', `/api/v1/statuses/${a}/context`, bob);
    assert.deepEqual(
      asBob.body.descendants.map((s: Json) => s.id),
      [b, c, d, hidden],
    );
  });
});

describe('interactions', () => {
  test('favourite, favourited_by with Link header, unfavourite', async () => {
    const id = (await post(alice, { status: 'fav me' })).body.id;
    const fav = await call('POST', `/api/v1/statuses/${id}/favourite`, bob);
    assert.equal(fav.status, 200);
    assert.equal(fav.body.favourited, true);
    assert.equal(fav.body.favourites_count, 1);
    await call('POST', `/api/v1/statuses/${id}/favourite`, bob);
    await call('POST', `/api/v1/statuses/${id}/favourite`, carol);
    const by = await call('GET', `/api/v1/statuses/${id}/favourited_by?limit=1`);
    assert.deepEqual(
      by.body.map((a: Json) => a.id),
      [carol.account.id],
    );
    assert.match(String(by.headers.link), /max_id=\d+>; rel="next"/);
    const notes = await api.ctx.database.db
      .select()
      .from(notifications)
      .where(eq(notifications.accountId, alice.account.id));
    assert.ok(notes.some((n) => n.type === 'favourite' && n.statusId === id));
    const unfav = await call('POST', `/api/v1/statuses/${id}/unfavourite`, bob);
    assert.equal(unfav.body.favourited, false);
    assert.equal(unfav.body.favourites_count, 1);
    // The undone favourite's notification is withdrawn.
    const left = await api.ctx.database.db
      .select()
      .from(notifications)
      .where(eq(notifications.accountId, alice.account.id));
    assert.ok(
      !left.some((n) => n.type === 'favourite' && n.statusId === id && n.fromAccountId === bob.account.id),
    );
    assert.ok(
      left.some((n) => n.type === 'favourite' && n.statusId === id && n.fromAccountId === carol.account.id),
    );
    assert.equal((await call('POST', '/api/v1/statuses/1/favourite', bob)).status, 404);
  });

  test('reblog and unreblog; private is boostable by its author only; direct never', async () => {
    const id = (await post(alice, { status: 'boost me' })).body.id;
    const boosted = await call('POST', `/api/v1/statuses/${id}/reblog`, bob, { visibility: 'unlisted' });
    assert.equal(boosted.status, 200, JSON.stringify(boosted.body));
    schema(boosted.body, 'Status');
    assert.equal(boosted.body.reblog.id, id);
    assert.equal(boosted.body.visibility, 'unlisted');
    assert.equal(boosted.body.reblog.reblogged, true);
    assert.equal(boosted.body.reblog.reblogs_count, 1);
    const boostNotes = await api.ctx.database.db
      .select()
      .from(notifications)
      .where(eq(notifications.accountId, alice.account.id));
    assert.ok(
      boostNotes.some((n) => n.type === 'reblog' && n.statusId === id && n.fromAccountId === bob.account.id),
    );
    const again = await call('POST', `/api/v1/statuses/${id}/reblog`, bob);
    assert.equal(again.body.id, boosted.body.id);
    const by = await call('GET', `/api/v1/statuses/${id}/reblogged_by`);
    assert.deepEqual(
      by.body.map((a: Json) => a.id),
      [bob.account.id],
    );
    const un = await call('POST', `/api/v1/statuses/${id}/unreblog`, bob);
    assert.equal(un.body.id, id);
    assert.equal(un.body.reblogged, false);
    assert.equal(un.body.reblogs_count, 0);
    const reblogNotes = await api.ctx.database.db
      .select()
      .from(notifications)
      .where(eq(notifications.accountId, alice.account.id));
    assert.ok(!reblogNotes.some((n) => n.type === 'reblog' && n.statusId === id));
    assert.equal((await call('GET', `/api/v1/statuses/${boosted.body.id}`)).status, 404);

    await follow(api.ctx, bob.account.id, alice.account.id);
    const priv = (await post(alice, { status: 'followers only', visibility: 'private' })).body.id;
    const refused = await call('POST', `/api/v1/statuses/${priv}/reblog`, bob);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error, 'This action is not allowed');
    const self = await call('POST', `/api/v1/statuses/${priv}/reblog`, alice);
    assert.equal(self.status, 200);
    assert.equal(self.body.visibility, 'private');
    const direct = (await post(alice, { status: '@bob psst', visibility: 'direct' })).body.id;
    assert.equal((await call('POST', `/api/v1/statuses/${direct}/reblog`, bob)).status, 403);
    assert.equal((await call('POST', `/api/v1/statuses/${direct}/reblog`, carol)).status, 404);
  });

  test('bookmark, pin (at most 5, own only), mute thread', async () => {
    const id = (await post(alice, { status: 'keep' })).body.id;
    assert.equal((await call('POST', `/api/v1/statuses/${id}/bookmark`, bob)).body.bookmarked, true);
    assert.equal((await call('POST', `/api/v1/statuses/${id}/unbookmark`, bob)).body.bookmarked, false);
    const notMine = await call('POST', `/api/v1/statuses/${id}/pin`, bob);
    assert.equal(notMine.status, 422);
    assert.match(notMine.body.error, /Someone else's post cannot be pinned/);
    const pinner = await createTestUser(api.ctx);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await post(pinner, { status: `p${i}` })).body.id);
    for (const pid of ids.slice(0, 5))
      assert.equal((await call('POST', `/api/v1/statuses/${pid}/pin`, pinner)).body.pinned, true);
    const sixth = await call('POST', `/api/v1/statuses/${ids[5]}/pin`, pinner);
    assert.equal(sixth.status, 422);
    assert.match(sixth.body.error, /maximum number of posts/);
    assert.equal((await call('POST', `/api/v1/statuses/${ids[0]}/unpin`, pinner)).body.pinned, false);
    assert.equal((await call('POST', `/api/v1/statuses/${ids[5]}/pin`, pinner)).status, 200);
    assert.equal((await call('POST', `/api/v1/statuses/${id}/mute`, bob)).body.muted, true);
    assert.equal((await call('POST', `/api/v1/statuses/${id}/unmute`, bob)).body.muted, false);
  });

  test('scopes: a read-only token cannot post or favourite', async () => {
    const reader = await createTestUser(api.ctx, { scopes: ['read'] });
    assert.equal((await post(reader, { status: 'x' })).status, 403);
    const id = (await post(alice, { status: 'y' })).body.id;
    assert.equal((await call('POST', `/api/v1/statuses/${id}/favourite`, reader)).status, 403);
    assert.equal((await call('GET', `/api/v1/statuses/${id}`, reader)).status, 200);
  });
});

describe('jobs', () => {
  const job = (queue: Job['queue'], name: string, data: Job['data']): Job => ({
    id: '1',
    queue,
    name,
    data,
    attempt: 1,
    maxAttempts: 1,
  });

  test('the scheduler publishes due scheduled statuses', async () => {
    const res = await post(carol, {
      status: 'due soon',
      scheduled_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    await api.ctx.database.db
      .update(scheduledStatuses)
      .set({ scheduledAt: new Date(Date.now() - 1000) })
      .where(eq(scheduledStatuses.id, res.body.id));
    await createJobRegistry(api.ctx).dispatch(job('scheduler', 'scheduled_statuses', null));
    assert.equal((await call('GET', '/api/v1/scheduled_statuses', carol)).body.length, 0);
    const [stats] = await api.ctx.database.db
      .select()
      .from(accountStats)
      .where(eq(accountStats.accountId, carol.account.id));
    assert.ok((stats?.statusesCount ?? 0) >= 1);
  });

  test('an ended poll notifies its author and voters', async () => {
    const res = await post(carol, { status: 'vote', poll: { options: ['x', 'y'], expires_in: 300 } });
    const pollId = res.body.poll.id;
    assert.equal((await call('POST', `/api/v1/polls/${pollId}/votes`, bob, { choices: ['0'] })).status, 200);
    await api.ctx.database.db
      .update(polls)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(polls.id, pollId));
    await createJobRegistry(api.ctx).dispatch(job('default', 'poll_expiration', { pollId }));
    for (const user of [carol, bob]) {
      const notes = await api.ctx.database.db
        .select()
        .from(notifications)
        .where(eq(notifications.accountId, user.account.id));
      assert.ok(
        notes.some((n) => n.type === 'poll' && n.statusId === res.body.id),
        user.account.username,
      );
    }
    const ended = await call('GET', `/api/v1/polls/${pollId}`, bob);
    assert.equal(ended.body.expired, true);
    assert.equal(
      (await call('POST', `/api/v1/polls/${pollId}/votes`, alice, { choices: ['1'] })).body.error,
      'Validation failed: The poll has already ended',
    );
  });
});
