import assert from 'node:assert/strict';
import { type before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { newId } from '../../src/db/ids.ts';
import { oauthAccessTokens, oauthApplications, users } from '../../src/db/schema/index.ts';
import { verifyPassword } from '../../src/domain/accounts/passwords.ts';
import { hashSecret, newSecret } from '../../src/domain/auth/secrets.ts';
import { authenticateToken, issueAccessToken } from '../../src/domain/auth/tokens.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';
import type { Browser } from '../support/browser.ts';

const api = apiHarness();

async function signedIn(user: TestUser, page: string): Promise<Browser> {
  const browser = api.browser();
  const res = await browser.signIn(user.account.username, user.password);
  assert.equal(res.statusCode, 303);
  assert.equal((await browser.get(page)).statusCode, 200);
  return browser;
}

describe('settings pages', () => {
  test('need a signed-in user and come back after sign-in', async () => {
    for (const page of [
      '/settings',
      '/settings/password',
      '/settings/email',
      '/settings/applications',
      '/settings/two_factor_authentication',
    ]) {
      const res = await api.inject({ method: 'GET', url: page });
      assert.equal(res.statusCode, 302, page);
      assert.equal(res.headers.location, `/auth/sign_in?return_to=${encodeURIComponent(page)}`);
    }
    const post = await api.inject({ method: 'POST', url: '/settings/password', payload: {} });
    assert.equal(post.statusCode, 302);
  });

  test('have no-store, a strict CSP and no script', async () => {
    const user = await createTestUser(api.ctx, { password: 'a password' });
    const browser = await signedIn(user, '/settings');
    for (const page of ['/settings', '/settings/password', '/settings/email', '/settings/applications']) {
      const res = await browser.get(page);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.match(String(res.headers['content-security-policy']), /^default-src 'none';/);
      assert.doesNotMatch(res.body, /<script/);
    }
  });
});

describe('/settings/password', () => {
  test('needs the current password, checks the new one, and signs out the other sessions', async () => {
    const user = await createTestUser(api.ctx, { password: 'old password' });
    const other = await signedIn(user, '/settings');
    const browser = await signedIn(user, '/settings/password');

    const wrong = await browser.post('/settings/password', {
      'user[current_password]': 'not it',
      'user[password]': 'new password',
      'user[password_confirmation]': 'new password',
    });
    assert.equal(wrong.statusCode, 422);
    assert.match(wrong.body, /Current password is invalid/);
    assert.match(wrong.body, /aria-describedby="user_current_password_error"/);

    const short = await browser.post('/settings/password', {
      'user[current_password]': 'old password',
      'user[password]': 'short',
      'user[password_confirmation]': 'short',
    });
    assert.equal(short.statusCode, 422);
    assert.match(short.body, /Password is too short \(minimum is 8 characters\)/);

    const mismatch = await browser.post('/settings/password', {
      'user[current_password]': 'old password',
      'user[password]': 'new password',
      'user[password_confirmation]': 'other password',
    });
    assert.equal(mismatch.statusCode, 422);
    assert.match(mismatch.body, /doesn(&#39;|')t match Password/);
    let [row] = await api.ctx.database.db.select().from(users).where(eq(users.id, user.user.id));
    assert.ok(await verifyPassword('old password', row!.encryptedPassword), 'nothing changed yet');
    assert.equal((await other.get('/settings')).statusCode, 200);

    const ok = await browser.post('/settings/password', {
      'user[current_password]': 'old password',
      'user[password]': 'new password',
      'user[password_confirmation]': 'new password',
    });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /Your password has been changed\./);
    [row] = await api.ctx.database.db.select().from(users).where(eq(users.id, user.user.id));
    assert.ok(await verifyPassword('new password', row!.encryptedPassword));
    assert.equal((await browser.get('/settings')).statusCode, 200, 'this session stays');
    assert.equal((await other.get('/settings')).statusCode, 302, 'the other session ended');
    assert.equal((await api.browser().signIn(user.account.username, 'old password')).statusCode, 422);
  });

  test('refuses a post without the CSRF token', async () => {
    const user = await createTestUser(api.ctx, { password: 'old password' });
    const browser = await signedIn(user, '/settings/password');
    const res = await browser.post(
      '/settings/password',
      {
        'user[current_password]': 'old password',
        'user[password]': 'new password',
        'user[password_confirmation]': 'new password',
      },
      { csrf: false },
    );
    assert.equal(res.statusCode, 422);
    const [row] = await api.ctx.database.db.select().from(users).where(eq(users.id, user.user.id));
    assert.ok(await verifyPassword('old password', row!.encryptedPassword));
  });
});

describe('/settings/email', () => {
  test('needs the password, refuses invalid and taken addresses, and queues a confirmation', async () => {
    const user = await createTestUser(api.ctx, { password: 'a password', email: 'first@example.test' });
    await createTestUser(api.ctx, { email: 'taken@example.test' });
    const browser = await signedIn(user, '/settings/email');

    const noPassword = await browser.post('/settings/email', {
      'user[email]': 'new@example.test',
      'user[current_password]': 'nope',
    });
    assert.equal(noPassword.statusCode, 422);
    assert.match(noPassword.body, /Current password is invalid/);

    const invalid = await browser.post('/settings/email', {
      'user[email]': 'not an address',
      'user[current_password]': 'a password',
    });
    assert.equal(invalid.statusCode, 422);
    assert.match(invalid.body, /E-mail address is invalid/);

    const taken = await browser.post('/settings/email', {
      'user[email]': 'TAKEN@example.test',
      'user[current_password]': 'a password',
    });
    assert.equal(taken.statusCode, 422);
    assert.match(taken.body, /E-mail address has already been taken/);
    let [row] = await api.ctx.database.db.select().from(users).where(eq(users.id, user.user.id));
    assert.equal(row?.unconfirmedEmail, null);

    const before = await api.ctx.queue.counts();
    const ok = await browser.post('/settings/email', {
      'user[email]': 'New@example.test',
      'user[current_password]': 'a password',
    });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /We sent a confirmation link to new@example\.test/);
    [row] = await api.ctx.database.db.select().from(users).where(eq(users.id, user.user.id));
    assert.equal(row?.email, 'first@example.test', 'the address changes only once confirmed');
    assert.equal(row?.unconfirmedEmail, 'new@example.test');
    const afterCounts = await api.ctx.queue.counts();
    const queued = (c: typeof before) =>
      c.mailers.waiting + c.mailers.delayed + c.mailers.active + c.mailers.completed;
    assert.equal(queued(afterCounts), queued(before) + 1);
  });
});

describe('/settings/applications', () => {
  async function insertApp(name: string, website: string | null = null): Promise<string> {
    const id = newId();
    await api.ctx.database.db.insert(oauthApplications).values({
      id,
      name,
      uid: newSecret(),
      secretHash: hashSecret(newSecret()),
      redirectUri: 'urn:ietf:wg:oauth:2.0:oob',
      scopes: 'read write',
      website,
    });
    return id;
  }

  test('lists the apps with live tokens and revokes all of an app’s tokens', async () => {
    const user = await createTestUser(api.ctx, { password: 'a password' });
    const someone = await createTestUser(api.ctx);
    const tusky = await insertApp('Tusky <3', 'https://tusky.app');
    const elk = await insertApp('Elk', 'javascript:alert(1)');
    const unused = await insertApp('Never used');
    const t1 = await issueAccessToken(api.ctx, {
      applicationId: tusky,
      userId: user.user.id,
      scopes: ['read'],
    });
    const t2 = await issueAccessToken(api.ctx, {
      applicationId: tusky,
      userId: user.user.id,
      scopes: ['write:statuses'],
    });
    const e1 = await issueAccessToken(api.ctx, {
      applicationId: elk,
      userId: user.user.id,
      scopes: ['read', 'write'],
    });
    const theirs = await issueAccessToken(api.ctx, {
      applicationId: tusky,
      userId: someone.user.id,
      scopes: ['read'],
    });
    const revokedAlready = await issueAccessToken(api.ctx, {
      applicationId: unused,
      userId: user.user.id,
      scopes: ['read'],
    });
    await api.ctx.database.db
      .update(oauthAccessTokens)
      .set({ revokedAt: new Date() })
      .where(eq(oauthAccessTokens.id, revokedAlready.id));

    const browser = await signedIn(user, '/settings/applications');
    const page = browser.lastHtml;
    assert.match(page, /Tusky &lt;3/);
    assert.match(page, /<a href="https:\/\/tusky\.app"/);
    assert.match(page, /<td>read write:statuses<\/td>/);
    assert.match(page, /Elk/);
    assert.doesNotMatch(page, /javascript:/, 'no script link');
    assert.doesNotMatch(page, /Never used/, 'revoked tokens do not count');

    // Without CSRF: nothing happens.
    assert.equal(
      (await browser.post(`/settings/applications/${tusky}/revoke`, {}, { csrf: false })).statusCode,
      422,
    );
    assert.ok(await authenticateToken(api.ctx, t1.accessToken));

    await browser.get('/settings/applications');
    const res = await browser.post(`/settings/applications/${tusky}/revoke`, {});
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/settings/applications?revoked=1');
    assert.equal(await authenticateToken(api.ctx, t1.accessToken), null);
    assert.equal(await authenticateToken(api.ctx, t2.accessToken), null);
    assert.ok(await authenticateToken(api.ctx, e1.accessToken), 'other apps keep their tokens');
    assert.ok(await authenticateToken(api.ctx, theirs.accessToken), 'other users keep their tokens');
    const after = await browser.get('/settings/applications?revoked=1');
    assert.doesNotMatch(after.body, /Tusky/);
    assert.match(after.body, /Elk/);

    // Unknown or already revoked: 404, as a page.
    const again = await browser.post(`/settings/applications/${tusky}/revoke`, {});
    assert.equal(again.statusCode, 404);
    assert.match(String(again.headers['content-type']), /^text\/html/);
    await browser.get('/settings/applications');
    assert.equal((await browser.post('/settings/applications/abc/revoke', {})).statusCode, 404);
  });
});
