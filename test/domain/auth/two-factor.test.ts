import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { TOTP } from 'otpauth';
import { users } from '../../../src/db/schema/index.ts';
import type { UserRecord } from '../../../src/domain/accounts/records.ts';
import {
  beginTwoFactorSetup,
  confirmTwoFactorSetup,
  consumeRecoveryCode,
  pendingTwoFactorSetup,
  twoFactorEnabled,
  verifySecondFactor,
  verifyTotp,
} from '../../../src/domain/auth/two-factor.ts';
import { isDomainError } from '../../../src/domain/errors.ts';
import { createTestUser } from '../../support/accounts.ts';
import { createTestContext, type TestContext } from '../../support/context.ts';

let ctx: TestContext;

before(async () => {
  ctx = await createTestContext();
});

after(async () => {
  await ctx?.close();
});

async function reload(id: string): Promise<UserRecord> {
  const [row] = await ctx.database.db.select().from(users).where(eq(users.id, id));
  return row!;
}

const generator = (secret: string) => new TOTP({ secret, digits: 6, period: 30, algorithm: 'SHA1' });

test('setup gives an otpauth URI with the domain as issuer; confirming enables it', async () => {
  const { user } = await createTestUser(ctx, { username: 'alice' });
  const setup = await beginTwoFactorSetup(ctx, user, 'alice');
  assert.match(setup.uri, /^otpauth:\/\/totp\/woolly\.test:alice\?/);
  assert.match(setup.uri, /issuer=woolly\.test/);
  assert.match(setup.uri, new RegExp(`secret=${setup.secret}`));
  let row = await reload(user.id);
  assert.equal(twoFactorEnabled(row), false);
  assert.deepEqual(pendingTwoFactorSetup(ctx, row, 'alice'), setup);
  assert.equal(await confirmTwoFactorSetup(ctx, row, '000000'), null);
  const codes = await confirmTwoFactorSetup(ctx, row, generator(setup.secret).generate());
  assert.equal(codes?.length, 10);
  assert.equal(new Set(codes).size, 10);
  row = await reload(user.id);
  assert.equal(twoFactorEnabled(row), true);
  assert.equal(pendingTwoFactorSetup(ctx, row, 'alice'), null);
  await assert.rejects(beginTwoFactorSetup(ctx, row, 'alice'), (e) => isDomainError(e, 'conflict'));
});

test('codes: ±1 step accepted, ±2 refused, each step once, malformed refused', async () => {
  const { user } = await createTestUser(ctx);
  const setup = await beginTwoFactorSetup(ctx, user, 'x');
  const row = await reload(user.id);
  const now = Date.now();
  const at = (steps: number) => generator(setup.secret).generate({ timestamp: now + steps * 30_000 });
  assert.equal(await verifyTotp(ctx, row, at(2), now), false);
  assert.equal(await verifyTotp(ctx, row, at(-2), now), false);
  assert.equal(await verifyTotp(ctx, row, at(-1), now), true);
  assert.equal(await verifyTotp(ctx, row, at(-1), now), false, 'the same step twice');
  assert.equal(
    await verifyTotp(ctx, row, ` ${at(1).slice(0, 3)} ${at(1).slice(3)} `, now),
    true,
    'spaces allowed',
  );
  assert.equal(await verifyTotp(ctx, row, 'abcdef', now), false);
  assert.equal(await verifyTotp(ctx, row, '', now), false);
  assert.equal(await verifyTotp(ctx, { ...row, otpSecretEncrypted: null }, at(0), now), false);
});

test('recovery codes work once, in any case, and only for their user', async () => {
  const { user } = await createTestUser(ctx);
  const other = await createTestUser(ctx);
  const setup = await beginTwoFactorSetup(ctx, user, 'x');
  const codes = (await confirmTwoFactorSetup(
    ctx,
    await reload(user.id),
    generator(setup.secret).generate(),
  ))!;
  assert.equal(await consumeRecoveryCode(ctx, other.user.id, codes[0]!), false);
  assert.equal(await consumeRecoveryCode(ctx, user.id, codes[0]!.toUpperCase()), true);
  assert.equal(await consumeRecoveryCode(ctx, user.id, codes[0]!), false);
  assert.equal(await verifySecondFactor(ctx, await reload(user.id), codes[1]!), 'recovery');
  assert.equal(await verifySecondFactor(ctx, await reload(user.id), 'nonsense'), null);
  assert.equal((await reload(user.id)).otpBackupCodes?.length, 8);
  // Concurrent uses of one code: exactly one wins.
  const results = await Promise.all([1, 2, 3].map(() => consumeRecoveryCode(ctx, user.id, codes[2]!)));
  assert.equal(results.filter(Boolean).length, 1);
});
