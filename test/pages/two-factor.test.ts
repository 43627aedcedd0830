import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eq } from 'drizzle-orm';
import { TOTP } from 'otpauth';
import { users } from '../../src/db/schema/index.ts';
import { decrypt } from '../../src/domain/crypto/encryption.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';

const api = apiHarness({ rateLimits: {} });
let alice: TestUser;

api.before(async () => {
  alice = await createTestUser(api.ctx, { username: 'alice', password: 'correct horse' });
});

function codeAt(secret: string, offsetSteps = 0): string {
  return new TOTP({ secret, digits: 6, period: 30, algorithm: 'SHA1' }).generate({
    timestamp: Date.now() + offsetSteps * 30_000,
  });
}

/**
 * A current code whose time step has not been used yet: the server refuses a step twice, and this
 * test uses more codes than a 90-second window holds, so it forgets the steps it used before.
 */
async function freshCode(userId: string, secret: string): Promise<string> {
  const step = Math.floor(Date.now() / 30_000);
  for (const s of [step - 1, step, step + 1]) await api.ctx.cache.del(`otp-used:${userId}:${s}`);
  return codeAt(secret);
}

test('two-factor: enable, sign in with a code, with a recovery code (once), regenerate, disable', async () => {
  const browser = api.browser();
  await browser.signIn('alice', 'correct horse');

  const status = await browser.get('/settings/two_factor_authentication');
  assert.equal(status.statusCode, 200);
  assert.match(status.body, /action="\/settings\/two_factor_authentication\/setup"/);

  const setup = await browser.post('/settings/two_factor_authentication/setup', {});
  assert.equal(setup.statusCode, 200);
  assert.match(setup.body, /<svg role="img" aria-label="QR code/);
  const secret = /<code>([A-Z2-7]+)<\/code>/.exec(setup.body)?.[1];
  assert.ok(secret, 'the secret is shown as text');
  let [row] = await api.ctx.database.db.select().from(users).where(eq(users.id, alice.user.id));
  assert.ok(row?.otpSecretEncrypted);
  assert.ok(!row.otpSecretEncrypted.includes(secret), 'the secret is encrypted at rest');
  assert.equal(decrypt(api.ctx.secrets, 'otp', row.otpSecretEncrypted), secret);
  assert.equal(row.otpRequiredForLogin, false, 'not required before the code is confirmed');

  const wrong = await browser.post('/settings/two_factor_authentication/confirm', { otp_attempt: '000000' });
  assert.equal(wrong.statusCode, 422);
  assert.match(wrong.body, /The entered code was invalid!/);
  assert.match(wrong.body, /aria-describedby="otp_attempt_error"/);

  const confirmed = await browser.post('/settings/two_factor_authentication/confirm', {
    otp_attempt: codeAt(secret),
  });
  assert.equal(confirmed.statusCode, 200);
  assert.match(confirmed.body, /Two-factor authentication successfully enabled/);
  const codes = [...confirmed.body.matchAll(/<li>([0-9a-f]{10})<\/li>/g)].map((m) => m[1]!);
  assert.equal(codes.length, 10);
  [row] = await api.ctx.database.db.select().from(users).where(eq(users.id, alice.user.id));
  assert.equal(row?.otpRequiredForLogin, true);
  assert.equal(row?.otpBackupCodes?.length, 10);
  assert.ok(!row?.otpBackupCodes?.includes(codes[0]!), 'recovery codes are stored hashed');

  // Sign-in now asks for the second factor; the password alone signs nobody in.
  const second = api.browser();
  const step1 = await second.signIn('alice', 'correct horse', '/settings/applications');
  assert.equal(step1.statusCode, 303);
  assert.equal(step1.headers.location, '/auth/sign_in/two_factor?return_to=%2Fsettings%2Fapplications');
  assert.equal((await second.get('/settings')).statusCode, 302, 'pending, not signed in');
  const prompt = await second.get('/auth/sign_in/two_factor?return_to=%2Fsettings%2Fapplications');
  assert.equal(prompt.statusCode, 200);
  assert.match(prompt.body, /autocomplete="one-time-code"/);
  const bad = await second.post('/auth/sign_in/two_factor?return_to=%2Fsettings%2Fapplications', {
    'user[otp_attempt]': '123456',
  });
  assert.equal(bad.statusCode, 422);
  assert.match(bad.body, /Invalid two-factor code/);
  // A code one step ahead (clock drift) is accepted once; the same code again is refused.
  const drifted = codeAt(secret, 1);
  const ok = await second.post('/auth/sign_in/two_factor?return_to=%2Fsettings%2Fapplications', {
    'user[otp_attempt]': drifted,
  });
  assert.equal(ok.statusCode, 303);
  assert.equal(ok.headers.location, '/settings/applications');
  assert.equal((await second.get('/settings')).statusCode, 200);

  const replay = api.browser();
  await replay.signIn('alice', 'correct horse');
  await replay.get('/auth/sign_in/two_factor');
  const reused = await replay.post('/auth/sign_in/two_factor', { 'user[otp_attempt]': drifted });
  assert.equal(reused.statusCode, 422, 'a used code cannot be replayed');

  // A recovery code works once.
  const viaRecovery = await replay.post('/auth/sign_in/two_factor', {
    'user[otp_attempt]': codes[0]!.toUpperCase(),
  });
  assert.equal(viaRecovery.statusCode, 303);
  const again = api.browser();
  await again.signIn('alice', 'correct horse');
  await again.get('/auth/sign_in/two_factor');
  assert.equal(
    (await again.post('/auth/sign_in/two_factor', { 'user[otp_attempt]': codes[0]! })).statusCode,
    422,
  );
  [row] = await api.ctx.database.db.select().from(users).where(eq(users.id, alice.user.id));
  assert.equal(row?.otpBackupCodes?.length, 9);

  // The pending session expires with sign-out (cancel).
  assert.equal((await again.post('/auth/sign_out', {})).statusCode, 303);
  assert.equal((await again.get('/auth/sign_in/two_factor')).statusCode, 302);

  // Regenerating needs a current code and replaces every old code.
  await browser.get('/settings/two_factor_authentication/recovery_codes');
  assert.equal(
    (await browser.post('/settings/two_factor_authentication/recovery_codes', { otp_attempt: '999999' }))
      .statusCode,
    422,
  );
  const regenerated = await browser.post('/settings/two_factor_authentication/recovery_codes', {
    otp_attempt: await freshCode(alice.user.id, secret),
  });
  assert.equal(regenerated.statusCode, 200);
  const fresh = [...regenerated.body.matchAll(/<li>([0-9a-f]{10})<\/li>/g)].map((m) => m[1]!);
  assert.equal(fresh.length, 10);
  const old = api.browser();
  await old.signIn('alice', 'correct horse');
  await old.get('/auth/sign_in/two_factor');
  assert.equal(
    (await old.post('/auth/sign_in/two_factor', { 'user[otp_attempt]': codes[1]! })).statusCode,
    422,
  );

  // Disabling needs the password and a current code.
  await browser.get('/settings/two_factor_authentication');
  const noPassword = await browser.post('/settings/two_factor_authentication/disable', {
    current_password: 'nope',
    otp_attempt: codeAt(secret),
  });
  assert.equal(noPassword.statusCode, 422);
  assert.match(noPassword.body, /Current password is invalid/);
  const noCode = await browser.post('/settings/two_factor_authentication/disable', {
    current_password: 'correct horse',
    otp_attempt: '111111',
  });
  assert.equal(noCode.statusCode, 422);
  const disabled = await browser.post('/settings/two_factor_authentication/disable', {
    current_password: 'correct horse',
    otp_attempt: await freshCode(alice.user.id, secret),
  });
  assert.equal(disabled.statusCode, 200);
  assert.match(disabled.body, /Two-factor authentication successfully disabled/);
  [row] = await api.ctx.database.db.select().from(users).where(eq(users.id, alice.user.id));
  assert.equal(row?.otpRequiredForLogin, false);
  assert.equal(row?.otpSecretEncrypted, null);
  assert.equal(row?.otpBackupCodes, null);
  const plain = api.browser();
  const res = await plain.signIn('alice', 'correct horse');
  assert.equal(res.headers.location, '/settings');
});

test('the second factor is rate limited per user (10 per hour)', async () => {
  const bob = await createTestUser(api.ctx, { username: 'bob', password: 'bob password' });
  const browser = api.browser();
  await browser.signIn('bob', 'bob password');
  await browser.get('/settings/two_factor_authentication');
  await browser.post('/settings/two_factor_authentication/setup', {});
  const secret = /<code>([A-Z2-7]+)<\/code>/.exec(browser.lastHtml)?.[1] ?? '';
  assert.ok(secret);
  await browser.post('/settings/two_factor_authentication/confirm', { otp_attempt: codeAt(secret) });

  const attacker = api.browser();
  await attacker.signIn('bob', 'bob password');
  await attacker.get('/auth/sign_in/two_factor');
  for (let i = 0; i < 10; i++) {
    const res = await attacker.post('/auth/sign_in/two_factor', { 'user[otp_attempt]': String(100000 + i) });
    assert.equal(res.statusCode, 422);
  }
  const limited = await attacker.post('/auth/sign_in/two_factor', { 'user[otp_attempt]': codeAt(secret, 1) });
  assert.equal(limited.statusCode, 429);
  assert.match(limited.body, /Too many authentication attempts/);
  assert.ok(bob);
});

test('the two-factor form needs a pending session and a CSRF token', async () => {
  const anonymous = api.browser();
  assert.equal((await anonymous.get('/auth/sign_in/two_factor')).statusCode, 302);
  await anonymous.get('/auth/sign_in');
  const res = await anonymous.post(
    '/auth/sign_in/two_factor',
    { 'user[otp_attempt]': '123456' },
    { csrf: false },
  );
  assert.equal(res.statusCode, 422);
});
