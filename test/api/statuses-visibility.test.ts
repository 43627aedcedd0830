import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';
import { block, follow, mute } from '../support/graph.ts';

/**
 * The visibility matrix through the API: visibility × viewer for get status, context,
 * favourited_by and reblog. Viewers: the author; a follower; an account the status mentions;
 * another user; an account the author blocks; an account the author mutes (a follower too);
 * an account that mutes the author; anonymous.
 */
const VISIBILITIES = ['public', 'unlisted', 'private', 'direct'] as const;
const VIEWERS = [
  'author',
  'follower',
  'mentioned',
  'other',
  'blocked',
  'muted',
  'muting',
  'anonymous',
] as const;
type Visibility = (typeof VISIBILITIES)[number];
type Viewer = (typeof VIEWERS)[number];

const api = apiHarness();
const users = {} as Record<Exclude<Viewer, 'anonymous'>, TestUser>;
const roots = {} as Record<Visibility, string>;
const replies = {} as Record<Visibility, string>;

async function call(method: 'GET' | 'POST', url: string, viewer: Viewer, payload?: object) {
  const user = viewer === 'anonymous' ? undefined : users[viewer];
  const res = await api.inject({
    method,
    url,
    headers: user ? { authorization: `Bearer ${user.token}` } : {},
    ...(payload ? { payload } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read loosely, field by field.
  return { status: res.statusCode, body: res.json() as Record<string, any> };
}

api.before(async () => {
  for (const name of VIEWERS)
    if (name !== 'anonymous') users[name] = await createTestUser(api.ctx, { username: name });
  const author = users.author.account.id;
  for (const fan of [users.follower, users.muted, users.muting])
    await follow(api.ctx, fan.account.id, author);
  await block(api.ctx, author, users.blocked.account.id);
  await mute(api.ctx, author, users.muted.account.id);
  await mute(api.ctx, users.muting.account.id, author);
  for (const visibility of VISIBILITIES) {
    const root = await call('POST', '/api/v1/statuses', 'author', {
      status: `@mentioned ${visibility}`,
      visibility,
    });
    assert.equal(root.status, 200, JSON.stringify(root.body));
    roots[visibility] = root.body.id;
    // The mentioned account sees every root: it replies publicly and favourites the root.
    const reply = await call('POST', '/api/v1/statuses', 'mentioned', {
      status: 'a reply',
      in_reply_to_id: root.body.id,
      visibility: 'public',
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    replies[visibility] = reply.body.id;
    assert.equal((await call('POST', `/api/v1/statuses/${root.body.id}/favourite`, 'mentioned')).status, 200);
  }
});

/** Who may see a status of each visibility. */
const SEES: Record<Visibility, readonly Viewer[]> = {
  public: ['author', 'follower', 'mentioned', 'other', 'muted', 'muting', 'anonymous'],
  unlisted: ['author', 'follower', 'mentioned', 'other', 'muted', 'muting', 'anonymous'],
  private: ['author', 'follower', 'mentioned', 'muted', 'muting'],
  direct: ['author', 'mentioned'],
};

/** What POST /reblog answers: 200 boosted, 403 seen but not boostable, 404 not seen, 401 anonymous. */
function reblogAnswer(visibility: Visibility, viewer: Viewer): number {
  if (viewer === 'anonymous') return 401;
  if (!SEES[visibility].includes(viewer)) return 404;
  if (visibility === 'public' || visibility === 'unlisted') return 200;
  if (visibility === 'private' && viewer === 'author') return 200;
  return 403;
}

for (const visibility of VISIBILITIES) {
  describe(`${visibility} status`, () => {
    for (const viewer of VIEWERS) {
      const sees = SEES[visibility].includes(viewer);
      test(`${viewer}: ${sees ? 'sees it' : 'does not see it'}`, async () => {
        const id = roots[visibility];
        // get status
        const got = await call('GET', `/api/v1/statuses/${id}`, viewer);
        assert.equal(got.status, sees ? 200 : 404, 'GET /statuses/:id');
        if (!sees) assert.equal(got.body.error, 'Record not found');

        // context of the status itself, and of a public reply to it (the root is an ancestor
        // only for those who see it and do not mute its author)
        assert.equal(
          (await call('GET', `/api/v1/statuses/${id}/context`, viewer)).status,
          sees ? 200 : 404,
          'context',
        );
        const ctxOfReply = await call('GET', `/api/v1/statuses/${replies[visibility]}/context`, viewer);
        assert.equal(ctxOfReply.status, 200, 'context of the reply');
        const ancestors = ctxOfReply.body.ancestors.map((s: { id: string }) => s.id);
        assert.deepEqual(ancestors, sees && viewer !== 'muting' ? [id] : [], 'ancestors');

        // favourited_by
        const favs = await call('GET', `/api/v1/statuses/${id}/favourited_by`, viewer);
        assert.equal(favs.status, sees ? 200 : 404, 'favourited_by');
        if (sees)
          assert.deepEqual(
            favs.body.map((a: { id: string }) => a.id),
            [users.mentioned.account.id],
          );

        // reblog (undone at once, so every viewer starts from the same state)
        const boost = await call('POST', `/api/v1/statuses/${id}/reblog`, viewer);
        assert.equal(boost.status, reblogAnswer(visibility, viewer), `reblog: ${JSON.stringify(boost.body)}`);
        if (boost.status === 200) {
          assert.equal(boost.body.reblog.id, id);
          assert.equal((await call('POST', `/api/v1/statuses/${id}/unreblog`, viewer)).status, 200);
        }
      });
    }
  });
}
