import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { newId } from '../../src/db/ids.ts';
import { statusPins } from '../../src/db/schema/index.ts';
import { fanOutStatus } from '../../src/domain/timelines/distribution.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';
import { block, follow, mute } from '../support/graph.ts';
import { assertMatchesSchema, schemaSkipReason } from '../support/openapi.ts';
import { insertStatus } from '../support/statuses.ts';

const api = apiHarness();

async function get(url: string, who?: TestUser) {
  const res = await api.inject({
    method: 'GET',
    url,
    headers: who ? { authorization: `Bearer ${who.token}` } : {},
  });
  return res;
}

const ids = (res: { json(): unknown }) => (res.json() as { id: string }[]).map((s) => s.id);

describe('home', () => {
  test('needs a user token; pages with Link headers keeping other parameters', async () => {
    assert.equal((await get('/api/v1/timelines/home')).statusCode, 401);
    const reader = await createTestUser(api.ctx);
    const author = await createTestUser(api.ctx);
    await follow(api.ctx, reader.account.id, author.account.id);
    const posted: string[] = [];
    for (let i = 0; i < 5; i++) posted.push(await insertStatus(api.ctx, { accountId: author.account.id }));
    const res = await get('/api/v1/timelines/home?limit=2&local=false', reader);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(ids(res), [posted[4], posted[3]]);
    const link = String(res.headers.link);
    assert.equal(
      link,
      `<http://localhost/api/v1/timelines/home?limit=2&local=false&max_id=${posted[3]}>; rel="next", ` +
        `<http://localhost/api/v1/timelines/home?limit=2&local=false&min_id=${posted[4]}>; rel="prev"`,
    );
    const next = await get(`/api/v1/timelines/home?limit=2&max_id=${posted[3]}`, reader);
    assert.deepEqual(ids(next), [posted[2], posted[1]]);
    const prev = await get(`/api/v1/timelines/home?limit=2&min_id=${posted[1]}`, reader);
    assert.deepEqual(ids(prev), [posted[3], posted[2]]);
    const since = await get(`/api/v1/timelines/home?limit=2&since_id=${posted[1]}`, reader);
    assert.deepEqual(ids(since), [posted[4], posted[3]]);
    // A new status arrives by fan-out.
    const fresh = await insertStatus(api.ctx, { accountId: author.account.id });
    await fanOutStatus(api.ctx, fresh);
    assert.deepEqual(ids(await get('/api/v1/timelines/home?limit=1', reader)), [fresh]);
    const empty = await get(`/api/v1/timelines/home?max_id=${posted[0]}`, reader);
    assert.deepEqual(empty.json(), []);
    assert.equal(empty.headers.link, undefined);
    if (!schemaSkipReason) for (const s of res.json() as unknown[]) assertMatchesSchema(s, 'Status');
  });

  test('bad cursors and limits are 400s naming them', async () => {
    const reader = await createTestUser(api.ctx);
    const res = await get('/api/v1/timelines/home?max_id=abc', reader);
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), { error: 'max_id must be a numeric id' });
    const limit = await get('/api/v1/timelines/home?limit=-1', reader);
    assert.equal(limit.statusCode, 400);
    assert.match(limit.json().error, /limit/);
  });
});

describe('visibility matrix (public, unlisted, private, direct × viewer)', () => {
  let author: TestUser;
  let follower: TestUser;
  let mentioned: TestUser;
  let other: TestUser;
  let blocked: TestUser;
  let muter: TestUser;
  const posts: Record<string, string> = {};

  before(async () => {
    [author, follower, mentioned, other, blocked, muter] = (await Promise.all(
      Array.from({ length: 6 }, () => createTestUser(api.ctx)),
    )) as [TestUser, TestUser, TestUser, TestUser, TestUser, TestUser];
    for (const f of [follower, blocked, muter]) await follow(api.ctx, f.account.id, author.account.id);
    await block(api.ctx, author.account.id, blocked.account.id);
    await mute(api.ctx, muter.account.id, author.account.id);
    for (const visibility of ['public', 'unlisted', 'private', 'direct'] as const) {
      posts[visibility] = await insertStatus(api.ctx, {
        accountId: author.account.id,
        visibility,
        mentions: [mentioned.account.id],
        tags: ['Matrix'],
      });
    }
  });

  // What each viewer sees of [public, unlisted, private, direct] in each timeline.
  const expected: Record<string, Record<string, string[]>> = {
    author: {
      home: ['public', 'unlisted', 'private', 'direct'],
      public: ['public'],
      tag: ['public'],
      account: ['public', 'unlisted', 'private', 'direct'],
    },
    follower: {
      home: ['public', 'unlisted', 'private'],
      public: ['public'],
      tag: ['public'],
      account: ['public', 'unlisted', 'private'],
    },
    mentioned: {
      home: [],
      public: ['public'],
      tag: ['public'],
      account: ['public', 'unlisted', 'private', 'direct'],
    },
    other: { home: [], public: ['public'], tag: ['public'], account: ['public', 'unlisted'] },
    blocked: { home: [], public: [], tag: [], account: [] },
    muted: { home: [], public: [], tag: [], account: ['public', 'unlisted', 'private'] },
    anonymous: { public: ['public'], tag: ['public'], account: ['public', 'unlisted'] },
  };

  for (const [viewerName, rows] of Object.entries(expected)) {
    test(viewerName, async () => {
      const viewers: Record<string, TestUser | undefined> = {
        author,
        follower,
        mentioned,
        other,
        blocked,
        muted: muter,
        anonymous: undefined,
      };
      const viewer = viewers[viewerName];
      const urls: Record<string, string> = {
        home: '/api/v1/timelines/home?limit=40',
        public: '/api/v1/timelines/public?limit=40',
        tag: '/api/v1/timelines/tag/matrix?limit=40',
        account: `/api/v1/accounts/${author.account.id}/statuses?limit=40`,
      };
      for (const [timeline, visible] of Object.entries(rows)) {
        const res = await get(urls[timeline]!, viewer);
        assert.equal(res.statusCode, 200, `${timeline}: ${res.body}`);
        const seen = ids(res);
        for (const [visibility, id] of Object.entries(posts)) {
          assert.equal(
            seen.includes(id),
            visible.includes(visibility),
            `${viewerName} / ${timeline} / ${visibility}`,
          );
        }
      }
    });
  }
});

describe('public, tag and account timelines', () => {
  test('public: local/remote, no boosts, no replies to others, anonymous allowed', async () => {
    const a = await createTestUser(api.ctx);
    const b = await createTestUser(api.ctx);
    const local = await insertStatus(api.ctx, { accountId: a.account.id });
    const remoteLike = await insertStatus(api.ctx, { accountId: a.account.id, local: false });
    const boost = await insertStatus(api.ctx, { accountId: b.account.id, reblogOfId: local });
    const reply = await insertStatus(api.ctx, {
      accountId: b.account.id,
      inReplyToId: local,
      inReplyToAccountId: a.account.id,
    });
    const thread = await insertStatus(api.ctx, {
      accountId: a.account.id,
      inReplyToId: local,
      inReplyToAccountId: a.account.id,
    });
    const all = ids(await get('/api/v1/timelines/public?limit=40'));
    assert.ok(all.includes(local) && all.includes(remoteLike) && all.includes(thread));
    assert.ok(!all.includes(boost) && !all.includes(reply));
    const onlyLocal = ids(await get('/api/v1/timelines/public?local=true&limit=40'));
    assert.ok(onlyLocal.includes(local) && !onlyLocal.includes(remoteLike));
    const onlyRemote = ids(await get('/api/v1/timelines/public?remote=1&limit=40'));
    assert.ok(!onlyRemote.includes(local) && onlyRemote.includes(remoteLike));
    assert.deepEqual((await get('/api/v1/timelines/public?only_media=true')).json(), []);
  });

  test('tag: case-insensitive, any[], all[], none[]', async () => {
    const a = await createTestUser(api.ctx);
    const cats = await insertStatus(api.ctx, { accountId: a.account.id, tags: ['Cats'] });
    const both = await insertStatus(api.ctx, { accountId: a.account.id, tags: ['cats', 'dogs'] });
    const dogs = await insertStatus(api.ctx, { accountId: a.account.id, tags: ['dogs'] });
    assert.deepEqual(ids(await get('/api/v1/timelines/tag/CATS')), [both, cats]);
    assert.deepEqual(ids(await get('/api/v1/timelines/tag/cats?any[]=dogs')), [dogs, both, cats]);
    assert.deepEqual(ids(await get('/api/v1/timelines/tag/cats?all[]=dogs')), [both]);
    assert.deepEqual(ids(await get('/api/v1/timelines/tag/cats?none[]=dogs')), [cats]);
    assert.deepEqual(ids(await get('/api/v1/timelines/tag/cats?all[]=nosuchtag')), []);
    assert.deepEqual((await get('/api/v1/timelines/tag/nosuchtag')).json(), []);
    const res = await get('/api/v1/timelines/tag/cats?any[]=dogs&limit=1');
    assert.match(String(res.headers.link), /tag\/cats\?any\[\]=dogs&limit=1&max_id=/);
  });

  test('account statuses: exclude_replies, exclude_reblogs, pinned, tagged; 404 for unknown', async () => {
    const a = await createTestUser(api.ctx);
    const b = await createTestUser(api.ctx);
    const base = await insertStatus(api.ctx, { accountId: b.account.id });
    const own = await insertStatus(api.ctx, { accountId: a.account.id, tags: ['Topic'] });
    const reply = await insertStatus(api.ctx, {
      accountId: a.account.id,
      inReplyToId: base,
      inReplyToAccountId: b.account.id,
    });
    const selfReply = await insertStatus(api.ctx, {
      accountId: a.account.id,
      inReplyToId: own,
      inReplyToAccountId: a.account.id,
    });
    const boost = await insertStatus(api.ctx, { accountId: a.account.id, reblogOfId: base });
    await api.ctx.database.db
      .insert(statusPins)
      .values({ id: newId(), accountId: a.account.id, statusId: own });
    const url = `/api/v1/accounts/${a.account.id}/statuses`;
    assert.deepEqual(ids(await get(url)), [boost, selfReply, reply, own]);
    assert.deepEqual(ids(await get(`${url}?exclude_replies=true`)), [boost, selfReply, own]);
    assert.deepEqual(ids(await get(`${url}?exclude_reblogs=true`)), [selfReply, reply, own]);
    assert.deepEqual(ids(await get(`${url}?pinned=true`)), [own]);
    assert.deepEqual(ids(await get(`${url}?tagged=topic`)), [own]);
    assert.deepEqual(ids(await get(`${url}?exclude_replies=false&limit=1`)), [boost]);
    assert.equal((await get('/api/v1/accounts/123/statuses')).statusCode, 404);
    assert.equal((await get('/api/v1/accounts/nope/statuses')).statusCode, 404);
  });
});
