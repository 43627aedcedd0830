/**
 * A first probe for the fan-out budget (DESIGN.md §7: a status from an account with 10,000 local
 * followers is in every home within 2 s), not yet the bench/timeline generator and load run: makes
 * N followers (env N, default 10,000) whose feeds hold 800 entries each, then times fanOutStatus
 * three times. Uses a throw-away test database: embedded by default, PostgreSQL + Redis with
 * DATABASE_URL / REDIS_URL as the tests do.
 *   node_modules/.bin/node bench/timeline/fanout-probe.ts
 */
import { newId } from '../../src/db/ids.ts';
import { fanOutStatus } from '../../src/domain/timelines/distribution.ts';
import { insertStatus } from '../../test/domain/timelines/graph.ts';
import { createTestContext } from '../../test/support/context.ts';

const N = Number(process.env.N ?? 10000);
const ctx = await createTestContext();
const author = newId();
await ctx.database.query(
  `insert into accounts (id, username, created_at, updated_at) select $1::bigint + g, 'u' || g, now(), now() from generate_series(0, $2::int) g`,
  [author, N],
);
await ctx.database.query(
  `insert into follows (id, account_id, target_account_id) select $1::bigint + g, $2::bigint + g, $2::bigint from generate_series(1, $3::int) g`,
  [newId(), author, N],
);
// Every follower's feed exists with 800 entries (the worst case for trimming).
await ctx.database.query(
  `insert into home_feed_entries (account_id, status_id) select $1::bigint + g, s from generate_series(0, $2::int) g, generate_series(1, 800) s`,
  [author, N],
);
if (ctx.feeds.kind === 'redis') {
  for (let g = 0; g <= N; g++)
    await ctx.feeds.replace(
      (BigInt(author) + BigInt(g)).toString(),
      Array.from({ length: 800 }, (_, i) => ({ statusId: String(i + 1), reblogOfId: null })),
    );
}
for (let i = 0; i < 3; i++) {
  const id = await insertStatus(ctx, { accountId: author });
  const t = performance.now();
  const n = await fanOutStatus(ctx, id);
  console.log(`${ctx.feeds.kind}: fan-out to ${n} homes in ${Math.round(performance.now() - t)} ms`);
}
await ctx.close();
