import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import Fastify from 'fastify';
import { ApiError } from '../../src/api/errors.ts';
import { INVALID_LIMIT, paginate, parsePage, setLinkHeader } from '../../src/api/pagination.ts';
import { pageOfIds } from '../../src/db/page.ts';
import { statuses } from '../../src/db/schema/index.ts';
import { createTestUser } from '../support/accounts.ts';
import { createTestContext, type TestContext } from '../support/context.ts';
import { insertStatus } from '../support/statuses.ts';

test('parsePage: defaults, clamping, empty cursors, canonical ids', () => {
  assert.deepEqual(parsePage({}), { limit: 20 });
  assert.deepEqual(parsePage(undefined, { defaultLimit: 40 }), { limit: 40 });
  assert.deepEqual(parsePage({ limit: '500' }), { limit: 40 });
  assert.deepEqual(parsePage({ limit: '500' }, { defaultLimit: 40, maxLimit: 80 }), { limit: 80 });
  assert.deepEqual(parsePage({ limit: '0' }), { limit: 1 });
  assert.deepEqual(parsePage({ limit: '', max_id: '', since_id: '' }), { limit: 20 });
  assert.deepEqual(parsePage({ max_id: '0012', since_id: '5', min_id: '7', limit: '3' }), {
    maxId: '12',
    sinceId: '5',
    minId: '7',
    limit: 3,
  });
});

test('parsePage: bad cursors and limits are 400s that name them', () => {
  const fails = (query: Record<string, unknown>, message: string) =>
    assert.throws(
      () => parsePage(query),
      (e: unknown) => e instanceof ApiError && e.statusCode === 400 && e.message === message,
    );
  fails({ max_id: 'abc' }, 'max_id must be a numeric id');
  fails({ since_id: '-1' }, 'since_id must be a numeric id');
  fails({ min_id: ['1', '2'] }, 'min_id must be a numeric id');
  fails({ max_id: '99999999999999999999' }, 'max_id must be a numeric id');
  fails({ limit: '-5' }, INVALID_LIMIT);
  fails({ limit: 'ten' }, INVALID_LIMIT);
});

test('pageOfIds follows the same rules in memory', () => {
  const list = ['1', '2', '3', '4', '5', '10'];
  assert.deepEqual(pageOfIds(list, { limit: 2 }), ['10', '5']);
  assert.deepEqual(pageOfIds(list, { limit: 2, maxId: '5' }), ['4', '3']);
  assert.deepEqual(pageOfIds(list, { limit: 2, sinceId: '2' }), ['10', '5']);
  assert.deepEqual(pageOfIds(list, { limit: 2, minId: '2' }), ['4', '3']);
  assert.deepEqual(pageOfIds(list, { limit: 9, minId: '2', sinceId: '4' }), ['10', '5', '4', '3']);
});

let ctx: TestContext;
before(async () => {
  ctx = await createTestContext();
});
after(async () => {
  await ctx?.close();
});

test('paginate runs max_id/since_id newest first and min_id just after the cursor', async () => {
  const { account } = await createTestUser(ctx);
  const made: string[] = [];
  for (let i = 0; i < 6; i++) made.push(await insertStatus(ctx, { accountId: account.id }));
  const run = (page: Parameters<typeof paginate>[0]) =>
    paginate(page, statuses.id, (where, orderBy, limit) =>
      ctx.database.db
        .select({ id: statuses.id })
        .from(statuses)
        .where(and(eq(statuses.accountId, account.id), where))
        .orderBy(orderBy)
        .limit(limit),
    ).then((rows) => rows.map((r) => r.id));
  assert.deepEqual(await run({ limit: 2 }), [made[5], made[4]]);
  assert.deepEqual(await run({ limit: 2, maxId: made[4]! }), [made[3], made[2]]);
  assert.deepEqual(await run({ limit: 2, sinceId: made[1]! }), [made[5], made[4]]);
  assert.deepEqual(await run({ limit: 2, minId: made[1]! }), [made[3], made[2]]);
  assert.deepEqual(await run({ limit: 9, minId: made[1]!, maxId: made[4]! }), [made[3], made[2]]);
});

test('setLinkHeader: absolute next/prev keeping other parameters; none for an empty page', async () => {
  const app = Fastify();
  app.get('/list', async (request, reply) => {
    const items = String((request.query as { items?: string }).items ?? '')
      .split(',')
      .filter(Boolean);
    setLinkHeader(reply, request, { items, idOf: (i) => i, next: items.length >= 2 });
    return items;
  });
  const res = await app.inject({
    url: '/list?items=9,7&types[]=a&max_id=10&limit=2',
    headers: { host: 'example.test' },
  });
  assert.equal(
    res.headers.link,
    '<http://example.test/list?items=9%2C7&types[]=a&limit=2&max_id=7>; rel="next", ' +
      '<http://example.test/list?items=9%2C7&types[]=a&limit=2&min_id=9>; rel="prev"',
  );
  const short = await app.inject({ url: '/list?items=9' });
  assert.equal(short.headers.link, '<http://localhost/list?items=9&min_id=9>; rel="prev"');
  assert.equal((await app.inject({ url: '/list' })).headers.link, undefined);
  await app.close();
});
