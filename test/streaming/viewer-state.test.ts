import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { users } from '../../src/db/schema/index.ts';
import { PERMISSION_FLAGS } from '../../src/domain/accounts/roles.ts';
import { mayStreamList, streamFeedHalves } from '../../src/domain/streaming/access.ts';
import {
  chosenLanguages,
  loadViewerState,
  type StatusFacts,
  statusReachesViewer,
  type ViewerState,
} from '../../src/domain/streaming/viewer-state.ts';
import { statusFacts } from '../../src/streaming/entity-facts.ts';
import { createTestUser } from '../support/accounts.ts';
import { createTestContext, type TestContext } from '../support/context.ts';
import { block, mute } from '../support/graph.ts';

let ctx: TestContext;

before(async () => {
  ctx = await createTestContext();
});

after(async () => {
  await ctx?.close();
});

describe('loadViewerState', () => {
  test('reads blocks both ways, live mutes with their end, and chosen languages', async () => {
    const viewer = await createTestUser(ctx);
    const [blocked, blocker, muted, timed, expired, unrelated] = await Promise.all(
      Array.from({ length: 6 }, () => createTestUser(ctx)),
    );
    await block(ctx, viewer.account.id, blocked!.account.id);
    await block(ctx, blocker!.account.id, viewer.account.id);
    await block(ctx, blocker!.account.id, unrelated!.account.id);
    await mute(ctx, viewer.account.id, muted!.account.id);
    const ends = new Date(Date.now() + 3_600_000);
    await mute(ctx, viewer.account.id, timed!.account.id, { expiresAt: ends });
    await mute(ctx, viewer.account.id, expired!.account.id, { expiresAt: new Date(Date.now() - 1000) });
    await mute(ctx, unrelated!.account.id, viewer.account.id);
    await ctx.database.db
      .update(users)
      .set({ settings: { chosen_languages: ['en', 'ja'], default_language: 'en' } })
      .where(eq(users.id, viewer.user.id));

    const state = await loadViewerState(ctx, viewer.account.id);
    assert.deepEqual([...state.blocking], [blocked!.account.id]);
    assert.deepEqual([...state.blockedBy], [blocker!.account.id]);
    assert.deepEqual(
      new Map(state.muting),
      new Map([
        [muted!.account.id, null],
        [timed!.account.id, ends.getTime()],
      ]),
    );
    assert.deepEqual(state.chosenLanguages, new Set(['en', 'ja']));
    assert.equal(state.domainBlocks.size, 0);
  });

  test('a user without chosen languages reads every language', async () => {
    const viewer = await createTestUser(ctx);
    assert.equal((await loadViewerState(ctx, viewer.account.id)).chosenLanguages, null);
    assert.equal(chosenLanguages({ chosen_languages: [] }), null);
    assert.equal(chosenLanguages({ chosen_languages: 'en' }), null);
    assert.equal(chosenLanguages(null), null);
  });
});

describe('statusFacts', () => {
  test('takes the author, mentions, domain and language from a Status entity', () => {
    assert.deepEqual(
      statusFacts({
        id: '1',
        language: 'de',
        account: { id: '10', acct: 'alice@Remote.Example' },
        mentions: [{ id: '11' }, { id: '12' }],
      }),
      { authorId: '10', accountIds: ['10', '11', '12'], domain: 'remote.example', language: 'de' },
    );
    assert.deepEqual(statusFacts({ account: { id: '10', acct: 'bob' }, language: null }), {
      authorId: '10',
      accountIds: ['10'],
      domain: null,
      language: null,
    });
    assert.equal(statusFacts('123'), null);
    assert.equal(statusFacts({ id: '1' }), null);
  });
});

describe('statusReachesViewer', () => {
  const empty: ViewerState = {
    accountId: '1',
    blocking: new Set(),
    blockedBy: new Set(),
    muting: new Map(),
    domainBlocks: new Set(),
    chosenLanguages: null,
  };
  const facts = (over: Partial<StatusFacts> = {}): StatusFacts => ({
    authorId: '20',
    accountIds: ['20', '21'],
    domain: null,
    language: 'en',
    ...over,
  });
  const now = Date.now();

  test('passes when nothing applies', () => {
    assert.equal(statusReachesViewer(empty, facts(), now), true);
  });

  test('blocks and mutes of the author or a mention, the author blocking the viewer', () => {
    assert.equal(statusReachesViewer({ ...empty, blocking: new Set(['20']) }, facts(), now), false);
    assert.equal(statusReachesViewer({ ...empty, blocking: new Set(['21']) }, facts(), now), false);
    assert.equal(statusReachesViewer({ ...empty, muting: new Map([['21', null]]) }, facts(), now), false);
    assert.equal(statusReachesViewer({ ...empty, blockedBy: new Set(['20']) }, facts(), now), false);
    // A mentioned account blocking the viewer does not hide the status (Mastodon's rule).
    assert.equal(statusReachesViewer({ ...empty, blockedBy: new Set(['21']) }, facts(), now), true);
  });

  test('a timed mute counts until it ends', () => {
    const state = { ...empty, muting: new Map([['20', now + 1000]]) };
    assert.equal(statusReachesViewer(state, facts(), now), false);
    assert.equal(statusReachesViewer(state, facts(), now + 1000), true);
  });

  test('domain blocks', () => {
    const state = { ...empty, domainBlocks: new Set(['remote.example']) };
    assert.equal(statusReachesViewer(state, facts({ domain: 'remote.example' }), now), false);
    assert.equal(statusReachesViewer(state, facts({ domain: 'other.example' }), now), true);
    assert.equal(statusReachesViewer(state, facts(), now), true);
  });

  test('chosen languages: others and unknown languages are left out', () => {
    const state = { ...empty, chosenLanguages: new Set(['en']) };
    assert.equal(statusReachesViewer(state, facts(), now), true);
    assert.equal(statusReachesViewer(state, facts({ language: 'fr' }), now), false);
    assert.equal(statusReachesViewer(state, facts({ language: null }), now), false);
  });
});

describe('stream access', () => {
  test('feed halves follow the feed-access settings; view_feeds lifts them', () => {
    assert.deepEqual(streamFeedHalves('live', 0), { local: true, remote: true });
    const restricted = {
      live_feeds: { local: 'authenticated', remote: 'disabled' },
      hashtag_feeds: { local: 'disabled', remote: 'public' },
    } as const;
    assert.deepEqual(streamFeedHalves('live', 0, restricted), { local: true, remote: false });
    assert.deepEqual(streamFeedHalves('hashtag', 0, restricted), { local: false, remote: true });
    assert.deepEqual(streamFeedHalves('hashtag', PERMISSION_FLAGS.view_feeds, restricted), {
      local: true,
      remote: true,
    });
  });

  test('no list can be streamed until lists exist', async () => {
    const user = await createTestUser(ctx);
    assert.equal(await mayStreamList(ctx, user.account.id, '1'), false);
  });
});
