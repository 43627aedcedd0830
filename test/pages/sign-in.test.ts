import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { accounts, users, webSessions } from '../../src/db/schema/index.ts';
import { hashSecret } from '../../src/domain/auth/secrets.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';

const api = apiHarness({ rateLimits: {} });
let alice: TestUser;

api.before(async () => {
  alice = await createTestUser(api.ctx, {
    username: 'alice',
    email: 'alice@example.test',
    password: 'correct horse',
  });
});

async function sessionCount(): Promise<number> {
  return (await api.ctx.database.db.select().from(webSessions).where(eq(webSessions.userId, alice.user.id)))
    .length;
}

describe('GET /auth/sign_in', () => {
  test('is an accessible form with a CSRF token, safe headers and an anonymous session cookie', async () => {
    const browser = api.browser();
    const res = await browser.get('/auth/sign_in');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.equal(res.headers['cache-control'], 'no-store');
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /form-action 'self'/);
    assert.match(res.body, /<html lang="en">/);
    assert.match(res.body, /<main>/);
    assert.match(res.body, /<label for="user_email">/);
    assert.match(res.body, /<label for="user_password">/);
    assert.doesNotMatch(res.body, /<script/);
    const cookie = String(res.headers['set-cookie']);
    assert.match(cookie, /^_woolly_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    // Only the hash is stored.
    const [row] = await api.ctx.database.db
      .select()
      .from(webSessions)
      .where(eq(webSessions.tokenHash, hashSecret(browser.cookie!)));
    assert.ok(row);
    assert.equal(row.userId, null);
    assert.equal(browser.csrf(), row.csrfToken);
  });

  test('the cookie is Secure when the request came over https through a trusted proxy', async () => {
    const res = await api.inject({
      method: 'GET',
      url: '/auth/sign_in',
      headers: { 'x-forwarded-proto': 'https' },
    });
    assert.match(String(res.headers['set-cookie']), /; Secure/);
  });
});

describe('POST /auth/sign_in', () => {
  test('signs in by e-mail, rotates the session and lands on /settings', async () => {
    const browser = api.browser();
    await browser.get('/auth/sign_in');
    const anonymous = browser.cookie;
    const before = await sessionCount();
    const res = await browser.post('/auth/sign_in', {
      'user[email]': 'ALICE@example.test',
      'user[password]': 'correct horse',
    });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/settings');
    assert.notEqual(browser.cookie, anonymous, 'a new session id after sign-in');
    assert.match(String(res.headers['set-cookie']), /Max-Age=\d+/);
    assert.equal(await sessionCount(), before + 1);
    // The anonymous session is gone.
    const old = await api.ctx.database.db
      .select()
      .from(webSessions)
      .where(eq(webSessions.tokenHash, hashSecret(anonymous!)));
    assert.equal(old.length, 0);
    const home = await browser.get('/settings');
    assert.equal(home.statusCode, 200);
    assert.match(home.body, /@alice@woolly\.test/);
    const [user] = await api.ctx.database.db.select().from(users).where(eq(users.id, alice.user.id));
    assert.ok(user?.currentSignInAt);
  });

  test('signs in by username and goes back to a local return_to', async () => {
    const browser = api.browser();
    const res = await browser.signIn('Alice', 'correct horse', '/oauth/authorize?client_id=x&scope=read');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/oauth/authorize?client_id=x&scope=read');
  });

  test('refuses an absolute or protocol-relative return_to (open redirect)', async () => {
    for (const target of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      'javascript:alert(1)',
      '/\tevil',
    ]) {
      const browser = api.browser();
      await browser.get(`/auth/sign_in?return_to=${encodeURIComponent(target)}`);
      assert.doesNotMatch(browser.lastHtml, /name="return_to"/, target);
      const res = await browser.post('/auth/sign_in', {
        'user[email]': 'alice',
        'user[password]': 'correct horse',
        return_to: target,
      });
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, '/settings', target);
    }
  });

  test('a signed-in visitor of the sign-in page is sent on', async () => {
    const browser = api.browser();
    await browser.signIn('alice', 'correct horse');
    const res = await browser.get('/auth/sign_in?return_to=%2Fsettings%2Fpassword');
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/settings/password');
  });

  test('a wrong password and an unknown user get the same 422 form and no session', async () => {
    const before = await sessionCount();
    const wrong = api.browser();
    const r1 = await wrong.signIn('alice', 'wrong password');
    const unknown = api.browser();
    const r2 = await unknown.signIn('nobody@example.test', 'correct horse');
    for (const res of [r1, r2]) {
      assert.equal(res.statusCode, 422);
      assert.match(res.body, /Invalid email address or password\./);
      assert.match(res.body, /role="alert"/);
      assert.equal(res.headers['set-cookie'], undefined, 'no new session');
    }
    assert.match(r1.body, /value="alice"/, 'the login is kept in the form');
    assert.doesNotMatch(r1.body, /wrong password/, 'the password is not echoed');
    assert.equal(await sessionCount(), before);
    assert.equal((await wrong.get('/settings')).statusCode, 302);
  });

  test('a missing or wrong CSRF token is 422 and signs nobody in', async () => {
    const before = await sessionCount();
    const browser = api.browser();
    await browser.get('/auth/sign_in');
    const missing = await browser.post(
      '/auth/sign_in',
      { 'user[email]': 'alice', 'user[password]': 'correct horse' },
      { csrf: false },
    );
    assert.equal(missing.statusCode, 422);
    assert.match(String(missing.headers['content-type']), /^text\/html/);
    assert.match(missing.body, /The change you wanted was rejected/);
    const wrong = await browser.post('/auth/sign_in', {
      'user[email]': 'alice',
      'user[password]': 'correct horse',
      authenticity_token: 'x'.repeat(43),
    });
    assert.equal(wrong.statusCode, 422);
    // A token without its session (another browser's) is refused as well.
    const other = api.browser();
    await other.get('/auth/sign_in');
    const stolen = await api.browser().post('/auth/sign_in', {
      'user[email]': 'alice',
      'user[password]': 'correct horse',
      authenticity_token: other.csrf(),
    });
    assert.equal(stolen.statusCode, 422);
    assert.equal(await sessionCount(), before);
  });

  test('an unconfirmed user is signed in but sees the notice page with a resend button', async () => {
    const bob = await createTestUser(api.ctx, {
      username: 'bob',
      password: 'bob password',
      confirmed: false,
    });
    const browser = api.browser();
    const res = await browser.signIn('bob', 'bob password', '/settings/password');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/auth/setup');
    const setup = await browser.get('/auth/setup');
    assert.equal(setup.statusCode, 200);
    assert.match(setup.body, /You have to confirm your email address before continuing\./);
    assert.match(setup.body, /action="\/auth\/confirmation"/);
    // The settings pages send them back to the notice.
    const settings = await browser.get('/settings/password');
    assert.equal(settings.statusCode, 302);
    assert.equal(settings.headers.location, '/auth/setup');
    // Resending queues a confirmation mail.
    const resent = await browser.post('/auth/confirmation', {});
    assert.equal(resent.statusCode, 200);
    assert.match(resent.body, /You will receive an email with instructions/);
    const counts = await api.ctx.queue.counts();
    assert.ok(counts.mailers.waiting + counts.mailers.delayed + counts.mailers.active >= 1);
    assert.equal(bob.user.confirmedAt, null);
  });

  test('a disabled or suspended user is refused', async () => {
    const carol = await createTestUser(api.ctx, { username: 'carol', password: 'carol password' });
    await api.ctx.database.db.update(users).set({ disabled: true }).where(eq(users.id, carol.user.id));
    const r1 = await api.browser().signIn('carol', 'carol password');
    assert.equal(r1.statusCode, 422);
    assert.match(r1.body, /Your login is currently disabled\./);
    const dave = await createTestUser(api.ctx, { username: 'dave', password: 'dave password' });
    const browser = api.browser();
    assert.equal((await browser.signIn('dave', 'dave password')).statusCode, 303);
    await api.ctx.database.db
      .update(accounts)
      .set({ suspendedAt: new Date() })
      .where(eq(accounts.id, dave.account.id));
    assert.equal((await browser.get('/settings')).statusCode, 302, 'a suspended account is signed out');
    const r2 = await api.browser().signIn('dave', 'dave password');
    assert.equal(r2.statusCode, 422);
  });

  test('HTML in the login is escaped', async () => {
    const res = await api.browser().signIn('<script>alert(1)</script>', 'x');
    assert.equal(res.statusCode, 422);
    assert.doesNotMatch(res.body, /<script>alert/);
    assert.match(res.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  });
});

describe('sign-in rate limits', () => {
  test('25 attempts per IP per 5 minutes, then 429 with the form', async () => {
    const browser = api.browser({ 'x-forwarded-for': '203.0.113.7' });
    await browser.get('/auth/sign_in');
    for (let i = 0; i < 25; i++) {
      const res = await browser.post('/auth/sign_in', { 'user[email]': `nobody${i}`, 'user[password]': 'x' });
      assert.equal(res.statusCode, 422, `attempt ${i + 1}`);
    }
    const limited = await browser.post('/auth/sign_in', {
      'user[email]': 'alice',
      'user[password]': 'correct horse',
    });
    assert.equal(limited.statusCode, 429);
    assert.match(limited.body, /Too many authentication attempts, try again later\./);
    assert.match(limited.body, /name="user\[email\]"/);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    // Another address is not limited.
    const other = api.browser({ 'x-forwarded-for': '203.0.113.8' });
    assert.equal((await other.signIn('alice', 'correct horse')).statusCode, 303);
  });

  test('25 attempts per login per hour, whatever the IP', async () => {
    const erin = await createTestUser(api.ctx, { username: 'erin', password: 'erin password' });
    for (let i = 0; i < 25; i++) {
      const res = await api.browser({ 'x-forwarded-for': `198.51.100.${i}` }).signIn('erin', 'bad');
      assert.equal(res.statusCode, 422);
    }
    const res = await api.browser({ 'x-forwarded-for': '198.51.100.200' }).signIn('ERIN', 'erin password');
    assert.equal(res.statusCode, 429);
    assert.ok(erin);
  });
});

describe('sign-out', () => {
  test('POST /auth/sign_out ends the session (CSRF required)', async () => {
    const browser = api.browser();
    await browser.signIn('alice', 'correct horse');
    await browser.get('/settings');
    const cookie = browser.cookie!;
    const refused = await browser.post('/auth/sign_out', {}, { csrf: false });
    assert.equal(refused.statusCode, 422);
    assert.equal((await browser.get('/settings')).statusCode, 200, 'still signed in');
    const res = await browser.post('/auth/sign_out', {});
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/auth/sign_in');
    assert.match(String(res.headers['set-cookie']), /Max-Age=0/);
    const rows = await api.ctx.database.db
      .select()
      .from(webSessions)
      .where(eq(webSessions.tokenHash, hashSecret(cookie)));
    assert.equal(rows.length, 0);
    const replay = await api.inject({
      method: 'GET',
      url: '/settings',
      headers: { cookie: `_woolly_session=${cookie}` },
    });
    assert.equal(replay.statusCode, 302);
    assert.equal(replay.headers.location, '/auth/sign_in?return_to=%2Fsettings');
  });

  test('DELETE /auth/sign_out with the X-CSRF-Token header', async () => {
    const browser = api.browser();
    await browser.signIn('alice', 'correct horse');
    await browser.get('/settings');
    const res = await api.inject({
      method: 'DELETE',
      url: '/auth/sign_out',
      headers: { cookie: `_woolly_session=${browser.cookie}`, 'x-csrf-token': browser.csrf() },
    });
    assert.equal(res.statusCode, 303);
  });
});
