import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { users } from '../../src/db/schema/index.ts';
import { RESET_TOKEN_VALID_MS } from '../../src/domain/accounts/password-reset.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';
import type { Browser } from '../support/browser.ts';

const api = apiHarness({ mailWorker: true, rateLimits: {} });
let alice: TestUser;

api.before(async () => {
  alice = await createTestUser(api.ctx, {
    username: 'alice',
    email: 'alice@example.test',
    password: 'old password',
  });
});

function mailDir(): string {
  const mail = api.ctx.config.mail;
  assert.equal(mail.kind, 'file');
  return (mail as { dir: string }).dir;
}

function mails(): { to: string; subject: string; text: string; html: string | null }[] {
  const dir = mailDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
}

async function waitForMails(count: number): Promise<ReturnType<typeof mails>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = mails();
    if (found.length >= count) return found;
    if (Date.now() > deadline) assert.fail(`expected ${count} mails, found ${found.length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function requestReset(browser: Browser, email: string) {
  await browser.get('/auth/password/new');
  return browser.post('/auth/password', { 'user[email]': email });
}

function tokenOf(mail: { text: string }): string {
  const match = /reset_password_token=([A-Za-z0-9_-]+)/.exec(mail.text);
  assert.ok(match, mail.text);
  return match[1]!;
}

describe('password reset', () => {
  test('request → mail → new password; old refused, token single use, sessions ended', async () => {
    const signedIn = api.browser();
    assert.equal((await signedIn.signIn('alice', 'old password')).statusCode, 303);

    const browser = api.browser();
    const form = await browser.get('/auth/password/new');
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /<label for="user_email">/);
    const res = await browser.post('/auth/password', { 'user[email]': 'ALICE@example.test' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /If your email address exists in our database/);

    const [mail] = await waitForMails(1);
    assert.equal(mail!.to, 'alice@example.test');
    assert.match(mail!.subject, /Reset password instructions/);
    const token = tokenOf(mail!);
    assert.match(mail!.text, /^https:\/\/woolly\.test\/auth\/password\/edit\?reset_password_token=/m);
    const [row] = await api.ctx.database.db.select().from(users).where(eq(users.id, alice.user.id));
    assert.ok(row?.resetPasswordTokenHash);
    assert.notEqual(row.resetPasswordTokenHash, token, 'stored hashed');

    const edit = await browser.get(`/auth/password/edit?reset_password_token=${token}`);
    assert.equal(edit.statusCode, 200);
    assert.equal(edit.headers['referrer-policy'], 'no-referrer');
    assert.match(edit.body, /name="user\[reset_password_token\]"/);

    const mismatch = await browser.post('/auth/password/edit', {
      'user[reset_password_token]': token,
      'user[password]': 'brand new password',
      'user[password_confirmation]': 'something else',
    });
    assert.equal(mismatch.statusCode, 422);
    assert.match(mismatch.body, /aria-describedby="user_password_confirmation_error"/);
    const short = await browser.post('/auth/password/edit', {
      'user[reset_password_token]': token,
      'user[password]': 'short',
      'user[password_confirmation]': 'short',
    });
    assert.equal(short.statusCode, 422);
    assert.match(short.body, /too short/);

    const done = await browser.post('/auth/password/edit', {
      'user[reset_password_token]': token,
      'user[password]': 'brand new password',
      'user[password_confirmation]': 'brand new password',
    });
    assert.equal(done.statusCode, 200);
    assert.match(done.body, /Your password has been changed successfully/);

    assert.equal((await signedIn.get('/settings')).statusCode, 302, 'every session ended');
    assert.equal((await api.browser().signIn('alice', 'old password')).statusCode, 422);
    assert.equal((await api.browser().signIn('alice', 'brand new password')).statusCode, 303);

    // Single use.
    assert.equal((await browser.get(`/auth/password/edit?reset_password_token=${token}`)).statusCode, 404);
    await browser.get('/auth/password/new');
    const reused = await browser.post('/auth/password/edit', {
      'user[reset_password_token]': token,
      'user[password]': 'another password',
      'user[password_confirmation]': 'another password',
    });
    assert.equal(reused.statusCode, 422);
    assert.match(reused.body, /invalid or has expired/);
  });

  test('an unknown address gets the same answer and no mail', async () => {
    const before = mails().length;
    const res = await requestReset(api.browser(), 'nobody@example.test');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /If your email address exists in our database/);
    const counts = await api.ctx.queue.counts();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(mails().length, before);
    assert.equal(counts.mailers.waiting + counts.mailers.active, 0);
  });

  test('an expired token is refused', async () => {
    const bob = await createTestUser(api.ctx, {
      username: 'bob',
      email: 'bob@example.test',
      password: 'bob password',
    });
    const before = mails().length;
    await requestReset(api.browser(), 'bob@example.test');
    const token = tokenOf((await waitForMails(before + 1)).at(-1)!);
    await api.ctx.database.db
      .update(users)
      .set({ resetPasswordSentAt: new Date(Date.now() - RESET_TOKEN_VALID_MS - 1000) })
      .where(eq(users.id, bob.user.id));
    const browser = api.browser();
    assert.equal((await browser.get(`/auth/password/edit?reset_password_token=${token}`)).statusCode, 404);
    await browser.get('/auth/password/new');
    const res = await browser.post('/auth/password/edit', {
      'user[reset_password_token]': token,
      'user[password]': 'new bob password',
      'user[password_confirmation]': 'new bob password',
    });
    assert.equal(res.statusCode, 422);
    assert.equal((await api.browser().signIn('bob', 'bob password')).statusCode, 303, 'password unchanged');
  });

  test('CSRF is required on both forms', async () => {
    const browser = api.browser();
    await browser.get('/auth/password/new');
    assert.equal(
      (await browser.post('/auth/password', { 'user[email]': 'alice@example.test' }, { csrf: false }))
        .statusCode,
      422,
    );
    await browser.get('/auth/password/new');
    const res = await browser.post(
      '/auth/password/edit',
      {
        'user[reset_password_token]': 'x',
        'user[password]': 'a password',
        'user[password_confirmation]': 'a password',
      },
      { csrf: false },
    );
    assert.equal(res.statusCode, 422);
    assert.match(res.body, /The change you wanted was rejected/);
  });

  test('rate limited: 5 per 30 minutes per address', async () => {
    await createTestUser(api.ctx, { username: 'carol', email: 'carol@example.test' });
    for (let i = 0; i < 5; i++) {
      const res = await requestReset(
        api.browser({ 'x-forwarded-for': `192.0.2.${i}` }),
        'carol@example.test',
      );
      assert.equal(res.statusCode, 200);
    }
    const limited = await requestReset(
      api.browser({ 'x-forwarded-for': '192.0.2.100' }),
      'Carol@example.test',
    );
    assert.equal(limited.statusCode, 429);
    assert.match(limited.body, /Too many authentication attempts/);
  });

  test('rate limited: 25 per 5 minutes per IP', async () => {
    const browser = api.browser({ 'x-forwarded-for': '192.0.2.200' });
    for (let i = 0; i < 25; i++) {
      const res = await requestReset(browser, `someone${i}@example.test`);
      assert.equal(res.statusCode, 200);
    }
    assert.equal((await requestReset(browser, 'someone-else@example.test')).statusCode, 429);
  });
});
