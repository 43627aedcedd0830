import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import { TOTP } from 'otpauth';
import { users } from '../../src/db/schema/index.ts';
import { hashSecret } from '../../src/domain/auth/secrets.ts';
import { beginTwoFactorSetup, confirmTwoFactorSetup } from '../../src/domain/auth/two-factor.ts';
import { codeChallengeS256 } from '../../src/domain/oauth/grants.ts';
import { createTestUser, type TestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';
import { checkSchema } from '../support/openapi.ts';

/**
 * The authorization-code flow with PKCE as a browser client (Elk, Phanpy) drives it: register the
 * app, send the user to /oauth/authorize, sign in on the sign-in page, approve on the consent page,
 * exchange the code with the verifier, call the API.
 */
const api = apiHarness({ context: { env: { LOCAL_DOMAIN: 'social.example' } } });
let user: TestUser;
let ipCounter = 1;

api.before(async () => {
  user = await createTestUser(api.ctx, { username: 'alice', email: 'alice@example.test' });
});

const CALLBACK = 'http://localhost:5173/oauth/callback';
const OOB = 'urn:ietf:wg:oauth:2.0:oob';

interface RegisteredApp {
  client_id: string;
  client_secret: string;
  name: string;
}

async function registerApp(scopes = 'read write push profile', redirectUris: string[] = [CALLBACK, OOB]) {
  const res = await api.inject({
    method: 'POST',
    url: '/api/v1/apps',
    remoteAddress: `10.9.0.${ipCounter++}`,
    headers: { origin: 'http://localhost:5173' },
    payload: {
      client_name: 'Elk <dev>',
      redirect_uris: redirectUris,
      scopes,
      website: 'https://elk.example',
    },
  });
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.headers['access-control-allow-origin'], '*');
  return res.json() as RegisteredApp;
}

function sessionCookie(res: LightMyRequestResponse): string | undefined {
  const raw = res.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const found = list.find((c) => c.startsWith('_woolly_session='));
  return found?.split(';')[0];
}

function hiddenFields(html: string, formAction: string): Record<string, string> {
  const start = html.indexOf(`action="${formAction}"`);
  assert.ok(start !== -1, `a form posting to ${formAction}`);
  const form = html.slice(start, html.indexOf('</form>', start));
  const fields: Record<string, string> = {};
  for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[m[1]!] = unescapeHtml(m[2]!);
  }
  return fields;
}

function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function authorizeUrl(client: RegisteredApp, params: Record<string, string> = {}): string {
  const query = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: CALLBACK,
    response_type: 'code',
    scope: 'read write',
    ...params,
  });
  return `/oauth/authorize?${query}`;
}

/** Signs in through the sign-in page as a browser would; returns the signed-in cookie and where it went. */
async function signIn(location: string, who: TestUser = user): Promise<{ cookie: string; next: string }> {
  const page = await api.inject({ method: 'GET', url: location });
  assert.equal(page.statusCode, 200, page.body);
  const anonymous = sessionCookie(page);
  assert.ok(anonymous, 'the sign-in page starts a session for its CSRF token');
  const fields = hiddenFields(page.body, '/auth/sign_in');
  const res = await api.inject({
    method: 'POST',
    url: '/auth/sign_in',
    headers: { cookie: anonymous, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      ...fields,
      'user[email]': who.user.email,
      'user[password]': who.password,
    }).toString(),
  });
  assert.equal(res.statusCode, 303, res.body);
  const cookie = sessionCookie(res);
  assert.ok(cookie);
  return { cookie, next: String(res.headers.location) };
}

async function signedInCookie(who: TestUser = user): Promise<string> {
  return (await signIn('/auth/sign_in', who)).cookie;
}

function postForm(
  url: string,
  cookie: string,
  fields: Record<string, string>,
  method: 'POST' | 'DELETE' = 'POST',
) {
  return api.inject({
    method,
    url,
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });
}

async function exchange(client: RegisteredApp, code: string, extra: Record<string, string> = {}) {
  return api.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { origin: 'http://localhost:5173' },
    payload: {
      grant_type: 'authorization_code',
      code,
      redirect_uri: CALLBACK,
      client_id: client.client_id,
      client_secret: client.client_secret,
      ...extra,
    },
  });
}

async function grantCount(): Promise<number> {
  const [row] = await api.ctx.database.query<{ n: number }>(
    'select count(*)::int as n from oauth_access_grants',
  );
  return row!.n;
}

describe('authorization code + PKCE, as a browser client', () => {
  test('register → authorize → sign in → consent → approve → exchange → verify_credentials', async () => {
    const client = await registerApp();
    const verifier = randomBytes(48).toString('base64url');
    const state = randomBytes(8).toString('hex');
    const url = authorizeUrl(client, {
      state,
      code_challenge: codeChallengeS256(verifier),
      code_challenge_method: 'S256',
    });

    // No session: off to the sign-in page, which brings the user back here.
    const first = await api.inject({ method: 'GET', url });
    assert.equal(first.statusCode, 302);
    const signInLocation = String(first.headers.location);
    assert.equal(signInLocation, `/auth/sign_in?return_to=${encodeURIComponent(url)}`);

    const { cookie, next } = await signIn(signInLocation);
    assert.equal(next, url);

    // The consent page: the app, the account, the permissions, two buttons, CSRF-protected.
    const consent = await api.inject({ method: 'GET', url: next, headers: { cookie } });
    assert.equal(consent.statusCode, 200, consent.body);
    assert.match(String(consent.headers['content-type']), /^text\/html/);
    assert.match(String(consent.headers['cache-control']), /no-store/);
    assert.equal(consent.headers['access-control-allow-origin'], undefined, 'no CORS on the HTML page');
    const csp = String(consent.headers['content-security-policy']);
    assert.match(csp, /form-action 'self' http:\/\/localhost:5173/);
    assert.match(csp, /frame-ancestors 'none'/);
    const html = consent.body;
    assert.match(html, /<html lang="en">/);
    assert.match(html, /Elk &lt;dev&gt;/, 'the app name is escaped');
    assert.ok(!html.includes('Elk <dev>'));
    assert.match(html, /@alice@social\.example/);
    assert.match(html, /read all your account&#39;s data/);
    assert.match(html, /modify all your account&#39;s data/);
    assert.match(html, /<button type="submit" name="decision" value="approve">Authorize<\/button>/);
    assert.match(html, /value="deny"[^>]*>Deny<\/button>/);
    assert.ok(!/<script/i.test(html), 'no JavaScript needed');
    const fields = hiddenFields(html, '/oauth/authorize');
    assert.ok(fields.authenticity_token);
    assert.equal(fields.state, state);
    assert.equal(fields.code_challenge_method, 'S256');

    const approved = await postForm('/oauth/authorize', cookie, { ...fields, decision: 'approve' });
    assert.equal(approved.statusCode, 303, approved.body);
    const back = new URL(String(approved.headers.location));
    assert.equal(`${back.origin}${back.pathname}`, CALLBACK);
    assert.equal(back.searchParams.get('state'), state);
    const code = back.searchParams.get('code');
    assert.ok(code);
    // The code is stored only as its hash.
    const [grant] = await api.ctx.database.query<{ scopes: string }>(
      'select scopes from oauth_access_grants where token_hash = $1',
      [hashSecret(code)],
    );
    assert.equal(grant?.scopes, 'read write');

    const tokenRes = await exchange(client, code, { code_verifier: verifier });
    assert.equal(tokenRes.statusCode, 200, tokenRes.body);
    assert.equal(tokenRes.headers['access-control-allow-origin'], '*');
    checkSchema(tokenRes.json(), 'Token');
    assert.equal(tokenRes.json().scope, 'read write');
    const accessToken = tokenRes.json().access_token as string;

    const me = await api.inject({
      method: 'GET',
      url: '/api/v1/accounts/verify_credentials',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    assert.equal(me.statusCode, 200, me.body);
    assert.equal(me.json().id, user.account.id);
    assert.equal(me.json().username, 'alice');
    checkSchema(me.json(), 'CredentialAccount');

    const verified = await api.inject({
      method: 'GET',
      url: '/api/v1/apps/verify_credentials',
      headers: { authorization: `Bearer ${accessToken}` },
    });
    assert.equal(verified.statusCode, 200);
    assert.equal(verified.json().name, 'Elk <dev>');

    // The code was single use.
    assert.equal((await exchange(client, code, { code_verifier: verifier })).statusCode, 400);

    // Authorizing the same scopes again goes straight back to the app (Mastodon's matching token)…
    const again = await api.inject({
      method: 'GET',
      url: authorizeUrl(client, { state: 's2' }),
      headers: { cookie },
    });
    assert.equal(again.statusCode, 302);
    const againUrl = new URL(String(again.headers.location));
    assert.equal(`${againUrl.origin}${againUrl.pathname}`, CALLBACK);
    assert.ok(againUrl.searchParams.get('code'));
    assert.equal(againUrl.searchParams.get('state'), 's2');
    // …unless force_login asks to show the page; other scopes also ask again.
    const forced = await api.inject({
      method: 'GET',
      url: authorizeUrl(client, { force_login: 'true' }),
      headers: { cookie },
    });
    assert.equal(forced.statusCode, 200);
    assert.match(forced.body, /Authorization required/);
    const wider = await api.inject({
      method: 'GET',
      url: authorizeUrl(client, { scope: 'read write push' }),
      headers: { cookie },
    });
    assert.equal(wider.statusCode, 200);
  });

  test('deny redirects with error=access_denied and the state; DELETE denies too; nothing is granted', async () => {
    const client = await registerApp();
    const cookie = await signedInCookie();
    const consent = await api.inject({
      method: 'GET',
      url: authorizeUrl(client, { state: 'xyz' }),
      headers: { cookie },
    });
    assert.equal(consent.statusCode, 200);
    const fields = hiddenFields(consent.body, '/oauth/authorize');
    const before = await grantCount();

    const denied = await postForm('/oauth/authorize', cookie, { ...fields, decision: 'deny' });
    assert.equal(denied.statusCode, 303);
    const back = new URL(String(denied.headers.location));
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), 'xyz');
    assert.equal(back.searchParams.get('code'), null);

    // Mastodon's own deny form: a POST carrying _method=delete.
    const railsDeny = await postForm('/oauth/authorize', cookie, { ...fields, _method: 'delete' });
    assert.equal(new URL(String(railsDeny.headers.location)).searchParams.get('error'), 'access_denied');

    const deleted = await postForm('/oauth/authorize', cookie, fields, 'DELETE');
    assert.equal(deleted.statusCode, 303);
    assert.equal(new URL(String(deleted.headers.location)).searchParams.get('error'), 'access_denied');
    assert.equal(await grantCount(), before);
  });

  test('out-of-band: the code is shown on a page, and exchanges with the oob redirect URI', async () => {
    const client = await registerApp('read write');
    const cookie = await signedInCookie();
    const url = `/oauth/authorize?${new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: OOB,
      response_type: 'code',
      scope: 'read',
    })}`;
    const consent = await api.inject({ method: 'GET', url, headers: { cookie } });
    assert.equal(consent.statusCode, 200);
    const fields = hiddenFields(consent.body, '/oauth/authorize');
    const shown = await postForm('/oauth/authorize', cookie, { ...fields, decision: 'approve' });
    assert.equal(shown.statusCode, 200);
    assert.match(String(shown.headers['content-type']), /^text\/html/);
    const code = /id="code" type="text" readonly value="([^"]+)"/.exec(shown.body)?.[1];
    assert.ok(code, shown.body);
    const tokenRes = await exchange(client, code, { redirect_uri: OOB });
    assert.equal(tokenRes.statusCode, 200, tokenRes.body);
    assert.equal(tokenRes.json().scope, 'read');
  });

  test('the approve form needs the session’s CSRF token and a session', async () => {
    const client = await registerApp();
    const cookie = await signedInCookie();
    const consent = await api.inject({ method: 'GET', url: authorizeUrl(client), headers: { cookie } });
    const fields = hiddenFields(consent.body, '/oauth/authorize');
    const before = await grantCount();

    const { authenticity_token: _token, ...withoutToken } = fields;
    const missing = await postForm('/oauth/authorize', cookie, { ...withoutToken, decision: 'approve' });
    assert.equal(missing.statusCode, 422);
    assert.equal(missing.headers.location, undefined);
    const wrong = await postForm('/oauth/authorize', cookie, {
      ...fields,
      authenticity_token: 'forged',
      decision: 'approve',
    });
    assert.equal(wrong.statusCode, 422);
    // Another user's session token does not fit this session either.
    const otherCookie = await signedInCookie(await createTestUser(api.ctx));
    const crossed = await postForm('/oauth/authorize', otherCookie, { ...fields, decision: 'approve' });
    assert.equal(crossed.statusCode, 422);

    const anonymous = await api.inject({
      method: 'POST',
      url: '/oauth/authorize',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ ...fields, decision: 'approve' }).toString(),
    });
    assert.equal(anonymous.statusCode, 302);
    assert.match(String(anonymous.headers.location), /^\/auth\/sign_in/);
    assert.equal(await grantCount(), before);
  });

  test('a user who cannot use the API yet (unconfirmed) is sent to the setup page, not the consent page', async () => {
    const client = await registerApp();
    const pending = await createTestUser(api.ctx, { confirmed: false });
    const { cookie } = await signIn('/auth/sign_in', pending);
    const res = await api.inject({ method: 'GET', url: authorizeUrl(client), headers: { cookie } });
    assert.equal(res.statusCode, 302);
    assert.equal(res.headers.location, '/auth/setup');
  });
});

describe('a user with two-factor authentication', () => {
  test('signs in with the second factor on the way to the consent page; the password grant stays closed', async () => {
    const client = await registerApp('read write');
    const guarded = await createTestUser(api.ctx);
    const setup = await beginTwoFactorSetup(api.ctx, guarded.user, guarded.account.username);
    const [reloaded] = await api.ctx.database.db.select().from(users).where(eq(users.id, guarded.user.id));
    assert.ok(reloaded);
    const now = new TOTP({ secret: setup.secret, digits: 6, period: 30 }).generate();
    const recovery = await confirmTwoFactorSetup(api.ctx, reloaded, now);
    assert.ok(recovery && recovery.length > 0, 'two-factor enabled');

    const url = authorizeUrl(client, { state: 'tf' });
    const first = await api.inject({ method: 'GET', url });
    const { cookie: pendingCookie, next } = await signIn(String(first.headers.location), guarded);
    assert.equal(next, `/auth/sign_in/two_factor?return_to=${encodeURIComponent(url)}`);

    // Not signed in yet: the consent page is out of reach with the pending session.
    const early = await api.inject({ method: 'GET', url, headers: { cookie: pendingCookie } });
    assert.equal(early.statusCode, 302);
    assert.match(String(early.headers.location), /^\/auth\/sign_in/);

    const otpPage = await api.inject({ method: 'GET', url: next, headers: { cookie: pendingCookie } });
    assert.equal(otpPage.statusCode, 200);
    const otpFields = hiddenFields(otpPage.body, next.replace(/&/g, '&amp;'));
    const passed = await postForm(next, pendingCookie, { ...otpFields, 'user[otp_attempt]': recovery[0]! });
    assert.equal(passed.statusCode, 303, passed.body);
    assert.equal(passed.headers.location, url);
    const cookie = sessionCookie(passed);
    assert.ok(cookie);

    const consent = await api.inject({ method: 'GET', url, headers: { cookie } });
    assert.equal(consent.statusCode, 200, consent.body);
    const approved = await postForm('/oauth/authorize', cookie, {
      ...hiddenFields(consent.body, '/oauth/authorize'),
      decision: 'approve',
    });
    const code = new URL(String(approved.headers.location)).searchParams.get('code');
    assert.ok(code);
    assert.equal((await exchange(client, code)).statusCode, 200);

    const password = await api.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: {
        grant_type: 'password',
        client_id: client.client_id,
        client_secret: client.client_secret,
        username: guarded.user.email,
        password: guarded.password,
      },
    });
    assert.equal(password.statusCode, 400);
    assert.equal(password.json().error, 'invalid_grant');
  });
});

describe('authorization request errors', () => {
  let client: RegisteredApp;
  let cookie: string;

  before(async () => {
    client = await registerApp('read write');
    cookie = await signedInCookie();
  });

  const getAuthorize = (params: Record<string, string>) =>
    api.inject({
      method: 'GET',
      url: `/oauth/authorize?${new URLSearchParams(params)}`,
      headers: { cookie },
    });

  test('an unknown or missing client_id, or an unregistered redirect URI: an error page, never a redirect', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ client_id: 'nope', redirect_uri: CALLBACK, response_type: 'code' }, /Client authentication failed/],
      [{ redirect_uri: CALLBACK, response_type: 'code' }, /Missing required parameter: client_id\./],
      [
        { client_id: client.client_id, redirect_uri: 'https://evil.example/steal', response_type: 'code' },
        /The redirect uri included is not valid\./,
      ],
      [{ client_id: client.client_id, response_type: 'code' }, /The redirect uri included is not valid\./],
      [
        {
          client_id: client.client_id,
          redirect_uri: 'http://localhost:5174/oauth/callback',
          response_type: 'code',
        },
        /redirect uri/,
      ],
    ];
    for (const [params, message] of cases) {
      const res = await getAuthorize(params);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.headers.location, undefined);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, message);
      // Also without a session: nothing is asked before the request is known to be good.
      const anonymous = await api.inject({
        method: 'GET',
        url: `/oauth/authorize?${new URLSearchParams(params)}`,
      });
      assert.equal(anonymous.statusCode, 400);
    }
  });

  const redirected = async (params: Record<string, string>, error: string) => {
    const res = await getAuthorize({
      client_id: client.client_id,
      redirect_uri: CALLBACK,
      state: 'st',
      ...params,
    });
    assert.equal(res.statusCode, 302, res.body);
    const back = new URL(String(res.headers.location));
    assert.equal(`${back.origin}${back.pathname}`, CALLBACK);
    assert.equal(back.searchParams.get('error'), error);
    assert.ok(back.searchParams.get('error_description'));
    assert.equal(back.searchParams.get('state'), 'st');
    assert.equal(back.searchParams.get('code'), null);
  };

  test('response_type other than code → unsupported_response_type, sent back to the app', async () => {
    await redirected({ response_type: 'token' }, 'unsupported_response_type');
    await redirected({}, 'invalid_request');
  });

  test('a scope outside the app’s or unknown → invalid_scope', async () => {
    await redirected({ response_type: 'code', scope: 'read push' }, 'invalid_scope');
    await redirected({ response_type: 'code', scope: 'admin:read' }, 'invalid_scope');
    await redirected({ response_type: 'code', scope: 'read bogus' }, 'invalid_scope');
  });

  test('a code_challenge_method other than S256 (or none) → invalid_request', async () => {
    const challenge = codeChallengeS256(randomBytes(32).toString('base64url'));
    await redirected(
      { response_type: 'code', code_challenge: challenge, code_challenge_method: 'plain' },
      'invalid_request',
    );
    await redirected({ response_type: 'code', code_challenge: challenge }, 'invalid_request');
    await redirected(
      { response_type: 'code', code_challenge: 'short', code_challenge_method: 'S256' },
      'invalid_request',
    );
  });

  test('with the out-of-band URI, errors are shown on the page instead', async () => {
    const res = await getAuthorize({
      client_id: client.client_id,
      redirect_uri: OOB,
      response_type: 'code',
      scope: 'push',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers.location, undefined);
    assert.match(res.body, /The requested scope is invalid/);
  });

  test('a registered URI with an added query, or a loopback IP on another port, matches (Doorkeeper, RFC 8252)', async () => {
    const native = await registerApp('read', ['https://client.example/cb', 'http://127.0.0.1/cb']);
    const withQuery = await api.inject({
      method: 'GET',
      url: `/oauth/authorize?${new URLSearchParams({
        client_id: native.client_id,
        redirect_uri: 'https://client.example/cb?from=app',
        response_type: 'code',
      })}`,
      headers: { cookie },
    });
    assert.equal(withQuery.statusCode, 200, withQuery.body);
    const fields = hiddenFields(withQuery.body, '/oauth/authorize');
    const approved = await postForm('/oauth/authorize', cookie, { ...fields, decision: 'approve' });
    const back = new URL(String(approved.headers.location));
    assert.equal(back.searchParams.get('from'), 'app');
    assert.ok(back.searchParams.get('code'));

    const loopback = await api.inject({
      method: 'GET',
      url: `/oauth/authorize?${new URLSearchParams({
        client_id: native.client_id,
        redirect_uri: 'http://127.0.0.1:51234/cb',
        response_type: 'code',
      })}`,
      headers: { cookie },
    });
    assert.equal(loopback.statusCode, 200, loopback.body);
    const otherHost = await api.inject({
      method: 'GET',
      url: `/oauth/authorize?${new URLSearchParams({
        client_id: native.client_id,
        redirect_uri: 'https://client.example:8443/cb',
        response_type: 'code',
      })}`,
      headers: { cookie },
    });
    assert.equal(otherHost.statusCode, 400);
  });

  test('lang never claims a language the page is not written in', async () => {
    const res = await getAuthorize({
      client_id: client.client_id,
      redirect_uri: CALLBACK,
      response_type: 'code',
      lang: 'fr',
    });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<html lang="en">/);
  });
});
