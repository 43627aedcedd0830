import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { users } from '../../src/db/schema/index.ts';
import { confirmEmail } from '../../src/domain/accounts/registration.ts';
import { BUILT_IN_ROLES, invalidateRoles } from '../../src/domain/accounts/roles.ts';
import { hashSecret } from '../../src/domain/auth/secrets.ts';
import { issueAccessToken } from '../../src/domain/auth/tokens.ts';
import { updateSettings } from '../../src/domain/settings/settings.ts';
import type { MailMessage } from '../../src/infra/mail/mailer.ts';
import { createTestApp, createTestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';
import { checkSchema } from '../support/openapi.ts';

const mails: MailMessage[] = [];

const api = apiHarness({
  // Many sign-ups from one address here: the sign-up throttle has its own test (rate-limit.test.ts).
  rateLimits: { overrides: { api_sign_up: { limit: 10_000 } } },
  // Mail is captured instead of written: the worker runs the real job handlers.
  prepare(ctx) {
    ctx.mailer = {
      async send(message) {
        mails.push(message);
        return { messageId: `<${mails.length}@test>` };
      },
      async close() {},
    };
  },
  mailWorker: true,
});

beforeEach(async () => {
  await api.ctx.database.query('delete from settings');
  await updateSettings(api.ctx, {});
});

const schema = checkSchema;

async function waitForMail(to: string, count = 1): Promise<MailMessage> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const found = mails.filter((m) => m.to === to);
    if (found.length >= count) return found[count - 1]!;
    if (Date.now() > deadline) throw new Error(`no mail to ${to}; got ${mails.map((m) => m.to).join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const linkToken = (mail: MailMessage) => {
  const match = /\/auth\/confirmation\?confirmation_token=([A-Za-z0-9_-]+)/.exec(mail.text);
  assert.ok(match, mail.text);
  return match[1]!;
};

/** An app and its client_credentials token, as a client registers before signing someone up. */
async function appToken(scopes = ['read', 'write', 'follow', 'push']) {
  const { application, token } = await createTestApp(api.ctx, {
    name: 'Test client',
    scopes: scopes.join(' '),
    redirectUris: 'urn:ietf:wg:oauth:2.0:oob',
    appToken: true,
  });
  return { application, token: token! };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let seq = 0;
const unique = (prefix: string) => `${prefix}${Date.now().toString(36)}${seq++}`;

async function signUp(token: string, body: Record<string, unknown>) {
  return api.inject({ method: 'POST', url: '/api/v1/accounts', headers: bearer(token), payload: body });
}

const countUsers = async () =>
  Number((await api.ctx.database.query<{ n: string }>('select count(*) as n from users'))[0]!.n);

describe('sign-up', () => {
  test('sign-up → confirmation mail → link → the token works', async () => {
    const { token } = await appToken();
    const username = unique('newbie');
    const email = `${username}@Example.TEST`;
    const res = await signUp(token, {
      username,
      email,
      password: 'correct horse',
      agreement: 'true',
      locale: 'fr',
    });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    schema(body, 'Token');
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, 'read write follow push');
    assert.equal(typeof body.created_at, 'number');
    assert.equal(res.headers['cache-control'], 'no-store');

    // Unconfirmed: the API says so (403), but the app may ask whether the mail was confirmed.
    const before = await api.inject({
      url: '/api/v1/accounts/verify_credentials',
      headers: bearer(body.access_token),
    });
    assert.equal(before.statusCode, 403);
    assert.deepEqual(before.json(), { error: 'Your login is missing a confirmed e-mail address' });
    const check = await api.inject({
      url: '/api/v1/emails/check_confirmation',
      headers: bearer(body.access_token),
    });
    assert.equal(check.statusCode, 200);
    assert.equal(check.body, 'false');

    const mail = await waitForMail(email.toLowerCase());
    assert.match(mail.subject, /Confirmation instructions for woolly\.test/);
    assert.match(mail.html ?? '', /confirmation_token=/);
    const confirmationToken = linkToken(mail);
    // Only the hash is stored.
    const [row] = await api.ctx.database.db.select().from(users).where(eq(users.email, email.toLowerCase()));
    assert.equal(row!.confirmationTokenHash, hashSecret(confirmationToken));
    assert.equal(row!.locale, 'fr');
    assert.ok(row!.signUpIp);

    const confirmed = await confirmEmail(api.ctx, confirmationToken);
    assert.equal(confirmed.ok, true);
    assert.deepEqual(await confirmEmail(api.ctx, confirmationToken), { ok: false, reason: 'invalid' });

    const me = await api.inject({
      url: '/api/v1/accounts/verify_credentials',
      headers: bearer(body.access_token),
    });
    assert.equal(me.statusCode, 200, me.body);
    const account = me.json();
    schema(account, 'CredentialAccount');
    assert.equal(account.username, username);
    assert.equal(account.acct, username);
    assert.equal(account.url, `${api.ctx.config.baseUrl}/@${username}`);
    assert.equal(account.uri, `${api.ctx.config.baseUrl}/users/${username}`);
    assert.match(account.created_at, /^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/);
    assert.equal(account.avatar, `${api.ctx.config.baseUrl}/avatars/original/missing.png`);
    assert.equal(account.header, `${api.ctx.config.baseUrl}/headers/original/missing.png`);
    assert.deepEqual(account.roles, []);
    assert.equal(account.source.privacy, 'public');
    assert.deepEqual(account.role, {
      id: '-99',
      name: '',
      permissions: '65536',
      color: '',
      highlighted: false,
    });
    schema(account.role, 'Role');
    const checked = await api.inject({
      url: '/api/v1/emails/check_confirmation',
      headers: bearer(body.access_token),
    });
    assert.equal(checked.body, 'true');
  });

  test('every field is checked, and a refused sign-up creates nothing', async () => {
    const { token } = await appToken();
    const usersBefore = await countUsers();
    const blank = await signUp(token, {});
    assert.equal(blank.statusCode, 422);
    const body = blank.json();
    schema(body, 'ValidationError');
    assert.deepEqual(Object.keys(body.details).sort(), ['agreement', 'email', 'password', 'username']);
    assert.equal(body.details.username[0].error, 'ERR_BLANK');
    assert.equal(body.details.email[0].error, 'ERR_BLANK');
    assert.equal(body.details.password[0].error, 'ERR_BLANK');
    assert.deepEqual(body.details.agreement, [{ error: 'ERR_ACCEPTED', description: 'must be accepted' }]);
    assert.match(body.error, /^Validation failed: /);
    assert.match(body.error, /Service agreement must be accepted/);

    const existing = await createTestUser(api.ctx, { username: unique('taken') });
    const cases: [Record<string, unknown>, string, string][] = [
      [{ username: existing.account.username.toUpperCase() }, 'username', 'ERR_TAKEN'],
      [{ username: 'with space' }, 'username', 'ERR_INVALID'],
      [{ username: 'a'.repeat(31) }, 'username', 'ERR_TOO_LONG'],
      [{ username: 'admin' }, 'username', 'ERR_RESERVED'],
      [{ username: 'Adm1n' }, 'username', 'ERR_RESERVED'],
      [{ username: 'mastodon_fan' }, 'username', 'ERR_RESERVED'],
      [{ email: existing.user.email.toUpperCase() }, 'email', 'ERR_TAKEN'],
      [{ email: 'not-an-address' }, 'email', 'ERR_INVALID'],
      [{ password: 'short' }, 'password', 'ERR_TOO_SHORT'],
      [{ password: 'x'.repeat(73) }, 'password', 'ERR_TOO_LONG'],
      [{ agreement: 'false' }, 'agreement', 'ERR_ACCEPTED'],
    ];
    for (const [change, field, code] of cases) {
      const res = await signUp(token, {
        username: unique('ok'),
        email: `${unique('ok')}@example.test`,
        password: 'long enough',
        agreement: true,
        ...change,
      });
      assert.equal(res.statusCode, 422, `${JSON.stringify(change)}: ${res.body}`);
      const codes = (res.json().details[field] ?? []).map((d: { error: string }) => d.error);
      assert.ok(codes.includes(code), `${JSON.stringify(change)} → ${res.body}`);
      assert.deepEqual(Object.keys(res.json().details), [field], res.body);
    }
    assert.equal(await countUsers(), usersBefore + 1); // only createTestUser's
  });

  test('needs an app token with write scope, not a user token', async () => {
    const user = await createTestUser(api.ctx);
    const asUser = await signUp(user.token, {});
    assert.equal(asUser.statusCode, 403);
    assert.deepEqual(asUser.json(), { error: 'This method requires an client credentials authentication' });
    const readOnly = await appToken(['read']);
    const res = await signUp(readOnly.token, {});
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().error, 'This action is outside the authorized scopes');
    const anonymous = await api.inject({ method: 'POST', url: '/api/v1/accounts', payload: {} });
    assert.equal(anonymous.statusCode, 401);
  });

  test('registration modes: closed, approval required (with a reason)', async () => {
    const { token } = await appToken();
    const valid = () => ({
      username: unique('mode'),
      email: `${unique('mode')}@example.test`,
      password: 'long enough',
      agreement: '1',
    });
    await updateSettings(api.ctx, { registrations_mode: 'none' });
    const closed = await signUp(token, valid());
    assert.equal(closed.statusCode, 403);
    assert.deepEqual(closed.json(), { error: 'Forbidden' });

    await updateSettings(api.ctx, { registrations_mode: 'approved', require_invite_text: true });
    const noReason = await signUp(token, valid());
    assert.equal(noReason.statusCode, 422);
    assert.equal(noReason.json().details.reason[0].error, 'ERR_BLANK');
    const tooLong = await signUp(token, { ...valid(), reason: 'x'.repeat(421) });
    assert.equal(tooLong.json().details.reason[0].error, 'ERR_TOO_LONG');

    const input = { ...valid(), reason: 'I like wool' };
    const res = await signUp(token, input);
    assert.equal(res.statusCode, 200, res.body);
    const [row] = await api.ctx.database.db.select().from(users).where(eq(users.email, input.email));
    assert.equal(row!.approved, false);
    assert.equal(row!.reason, 'I like wool');
    const confirmed = await confirmEmail(api.ctx, linkToken(await waitForMail(input.email)));
    assert.equal(confirmed.ok, true);
    const me = await api.inject({
      url: '/api/v1/accounts/verify_credentials',
      headers: bearer(res.json().access_token),
    });
    assert.equal(me.statusCode, 403);
    assert.deepEqual(me.json(), { error: 'Your login is currently pending approval' });
    // Pending accounts do not exist for others.
    const shown = await api.inject({ url: `/api/v1/accounts/${row!.accountId}` });
    assert.equal(shown.statusCode, 404);
  });
});

describe('e-mail confirmations', () => {
  test('the signing-up app may resend the link or correct the address; others may not', async () => {
    const { token, application } = await appToken();
    const input = {
      username: unique('resend'),
      email: `${unique('resend')}@example.test`,
      password: 'long enough',
      agreement: true,
    };
    const res = await signUp(token, input);
    const userToken = res.json().access_token as string;
    const first = linkToken(await waitForMail(input.email));

    const other = await appToken();
    const [row] = await api.ctx.database.db.select().from(users).where(eq(users.email, input.email));
    const foreign = await issueAccessToken(api.ctx, {
      applicationId: other.application.id,
      userId: row!.id,
      scopes: ['write'],
    });
    const refused = await api.inject({
      method: 'POST',
      url: '/api/v1/emails/confirmations',
      headers: bearer(foreign.accessToken),
    });
    assert.equal(refused.statusCode, 403);
    assert.match(refused.json().error, /originally signed-up with/);

    const resend = await api.inject({
      method: 'POST',
      url: '/api/v1/emails/confirmations',
      headers: bearer(userToken),
    });
    assert.equal(resend.statusCode, 200, resend.body);
    assert.deepEqual(resend.json(), {});
    const second = linkToken(await waitForMail(input.email, 2));
    assert.notEqual(second, first);
    assert.deepEqual(await confirmEmail(api.ctx, first), { ok: false, reason: 'invalid' }); // replaced

    const bad = await api.inject({
      method: 'POST',
      url: '/api/v1/emails/confirmations',
      headers: bearer(userToken),
      payload: { email: 'nope' },
    });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().details.email[0].error, 'ERR_INVALID');

    const corrected = `${unique('fixed')}@example.test`;
    const moved = await api.inject({
      method: 'POST',
      url: '/api/v1/emails/confirmations',
      headers: bearer(userToken),
      payload: { email: corrected },
    });
    assert.equal(moved.statusCode, 200, moved.body);
    const result = await confirmEmail(api.ctx, linkToken(await waitForMail(corrected)));
    assert.ok(result.ok);
    assert.equal(result.user.email, corrected);
    assert.equal(result.emailChanged, true);
    assert.equal(application.id, row!.createdByApplicationId);

    const done = await api.inject({
      method: 'POST',
      url: '/api/v1/emails/confirmations',
      headers: bearer(userToken),
    });
    assert.equal(done.statusCode, 403);
    assert.deepEqual(done.json(), {
      error: 'This method is only available while the e-mail is awaiting confirmation',
    });
  });

  test('check_confirmation needs a user', async () => {
    const anonymous = await api.inject({ url: '/api/v1/emails/check_confirmation' });
    assert.equal(anonymous.statusCode, 401);
    assert.deepEqual(anonymous.json(), { error: 'This method requires an authenticated user' });
    const { token } = await appToken();
    const appOnly = await api.inject({ url: '/api/v1/emails/check_confirmation', headers: bearer(token) });
    assert.equal(appOnly.statusCode, 401);
  });
});

describe('profile', () => {
  test('update_credentials changes what is given, within Mastodon limits', async () => {
    const user = await createTestUser(api.ctx);
    const patch = (payload: Record<string, unknown> | string, type = 'application/json') =>
      api.inject({
        method: 'PATCH',
        url: '/api/v1/accounts/update_credentials',
        headers: { ...bearer(user.token), 'content-type': type },
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      });
    const ok = await patch({
      display_name: 'Wool & <Yarn>',
      note: 'Line one\nline two\n\nSecond <b>paragraph</b>',
      locked: 'true',
      bot: false,
      discoverable: '1',
      indexable: true,
      hide_collections: 'false',
      fields_attributes: [
        { name: 'Site', value: 'https://example.test/<x>' },
        { name: '', value: '' },
      ],
      source: { privacy: 'unlisted', sensitive: 'true', language: 'de', quote_policy: 'followers' },
    });
    assert.equal(ok.statusCode, 200, ok.body);
    const body = ok.json();
    schema(body, 'CredentialAccount');
    assert.equal(body.display_name, 'Wool & <Yarn>');
    assert.equal(body.note, '<p>Line one<br />line two</p><p>Second &lt;b&gt;paragraph&lt;/b&gt;</p>');
    assert.equal(body.source.note, 'Line one\nline two\n\nSecond <b>paragraph</b>');
    assert.equal(body.locked, true);
    assert.equal(body.discoverable, true);
    assert.equal(body.hide_collections, false);
    assert.deepEqual(body.fields, [
      { name: 'Site', value: 'https://example.test/&lt;x&gt;', verified_at: null },
    ]);
    assert.deepEqual(body.source.fields, [
      { name: 'Site', value: 'https://example.test/<x>', verified_at: null },
    ]);
    assert.equal(body.source.privacy, 'unlisted');
    assert.equal(body.source.sensitive, true);
    assert.equal(body.source.language, 'de');
    assert.equal(body.source.quote_policy, 'followers');

    // Rails' form encoding, fields in hash form.
    const form = await patch(
      'display_name=Formed&fields_attributes[0][name]=A&fields_attributes[0][value]=1&fields_attributes[1][name]=B&fields_attributes[1][value]=2',
      'application/x-www-form-urlencoded',
    );
    assert.equal(form.statusCode, 200, form.body);
    assert.deepEqual(
      form.json().fields.map((f: { name: string }) => f.name),
      ['A', 'B'],
    );
    assert.equal(form.json().locked, true); // untouched

    const prefs = await api.inject({ url: '/api/v1/preferences', headers: bearer(user.token) });
    assert.equal(prefs.statusCode, 200);
    schema(prefs.json(), 'Preferences');
    assert.equal(prefs.json()['posting:default:visibility'], 'unlisted');
    assert.equal(prefs.json()['posting:default:language'], 'de');
    assert.equal(prefs.json()['reading:expand:media'], 'default');

    const five = Array.from({ length: 5 }, (_, i) => ({ name: `n${i}`, value: 'v' }));
    const refusals: [Record<string, unknown>, string, string][] = [
      [{ display_name: 'x'.repeat(31) }, 'display_name', 'ERR_TOO_LONG'],
      [{ note: 'x'.repeat(501) }, 'note', 'ERR_TOO_LONG'],
      [{ fields_attributes: five }, 'fields', 'ERR_TOO_LONG'],
      [{ fields_attributes: [{ name: 'n', value: 'v'.repeat(256) }] }, 'fields', 'ERR_TOO_LONG'],
      [{ fields_attributes: [{ name: '', value: 'orphan' }] }, 'fields', 'ERR_INVALID'],
      [{ locked: 'maybe?', display_name: 7 }, 'display_name', 'ERR_INVALID'],
      [{ source: { privacy: 'direct' } }, 'source.privacy', 'ERR_INCLUSION'],
      [{ source: { language: 'klingon' } }, 'source.language', 'ERR_INVALID'],
      [{ avatar: 'x' }, 'avatar', 'ERR_INVALID'],
    ];
    for (const [payload, field, code] of refusals) {
      const res = await patch({ display_name: 'Changed?', ...payload });
      assert.equal(res.statusCode, 422, `${JSON.stringify(payload)}: ${res.body}`);
      schema(res.json(), 'ValidationError');
      assert.equal(res.json().details[field]?.[0]?.error, code, res.body);
    }
    // A bio counts URLs as 23 characters: a long link does not push it over.
    const withUrl = await patch({ note: `${'x'.repeat(470)} https://example.test/${'y'.repeat(100)}` });
    assert.equal(withUrl.statusCode, 200, withUrl.body);
    const me = await api.inject({ url: '/api/v1/accounts/verify_credentials', headers: bearer(user.token) });
    assert.equal(me.json().display_name, 'Formed'); // refused requests changed nothing, not even their valid parts
  });

  test('scopes: read for verify_credentials, write for update_credentials', async () => {
    const reader = await createTestUser(api.ctx, { scopes: ['read:accounts'] });
    assert.equal(
      (await api.inject({ url: '/api/v1/accounts/verify_credentials', headers: bearer(reader.token) }))
        .statusCode,
      200,
    );
    const profileOnly = await createTestUser(api.ctx, { scopes: ['profile'] });
    assert.equal(
      (await api.inject({ url: '/api/v1/accounts/verify_credentials', headers: bearer(profileOnly.token) }))
        .statusCode,
      200,
    );
    assert.equal(
      (await api.inject({ url: '/api/v1/preferences', headers: bearer(profileOnly.token) })).statusCode,
      403,
    );
    const denied = await api.inject({
      method: 'PATCH',
      url: '/api/v1/accounts/update_credentials',
      headers: bearer(reader.token),
      payload: { display_name: 'x' },
    });
    assert.equal(denied.statusCode, 403);
    const writer = await createTestUser(api.ctx, { scopes: ['write:accounts'] });
    assert.equal(
      (await api.inject({ url: '/api/v1/accounts/verify_credentials', headers: bearer(writer.token) }))
        .statusCode,
      403,
    );
    assert.equal((await api.inject({ url: '/api/v1/accounts/verify_credentials' })).statusCode, 401);
    const lookupDenied = await api.inject({
      url: `/api/v1/accounts/${writer.account.id}`,
      headers: bearer(writer.token),
    });
    assert.equal(lookupDenied.statusCode, 403);
  });
});

describe('reading accounts', () => {
  test('by id, by acct, in batches; unknown, invalid and unconfirmed ones are not found', async () => {
    const alice = await createTestUser(api.ctx, { username: unique('alice') });
    const bob = await createTestUser(api.ctx, { username: unique('bob') });
    const hidden = await createTestUser(api.ctx, { username: unique('hidden'), confirmed: false });

    const one = await api.inject({ url: `/api/v1/accounts/${alice.account.id}` });
    assert.equal(one.statusCode, 200, one.body);
    schema(one.json(), 'Account');
    assert.equal(one.json().id, alice.account.id);
    assert.equal(one.json().noindex, false);
    assert.equal('source' in one.json(), false);
    for (const id of ['12345', 'abc', '99999999999999999999', hidden.account.id]) {
      const res = await api.inject({ url: `/api/v1/accounts/${id}` });
      assert.equal(res.statusCode, 404, id);
      assert.deepEqual(res.json(), { error: 'Record not found' });
    }

    for (const acct of [
      alice.account.username,
      `@${alice.account.username.toUpperCase()}`,
      `${alice.account.username}@woolly.test`,
    ]) {
      const res = await api.inject({ url: `/api/v1/accounts/lookup?acct=${encodeURIComponent(acct)}` });
      assert.equal(res.statusCode, 200, acct);
      assert.equal(res.json().id, alice.account.id);
    }
    for (const acct of [
      `${alice.account.username}@elsewhere.example`,
      'nobody',
      hidden.account.username,
      '',
    ]) {
      const res = await api.inject({ url: `/api/v1/accounts/lookup?acct=${encodeURIComponent(acct)}` });
      assert.equal(res.statusCode, 404, acct);
    }

    const batch = await api.inject({
      url: `/api/v1/accounts?id[]=${bob.account.id}&id[]=${alice.account.id}&id[]=${hidden.account.id}&id[]=1`,
    });
    assert.equal(batch.statusCode, 200);
    assert.deepEqual(
      batch.json().map((a: { id: string }) => a.id),
      [bob.account.id, alice.account.id],
    );
    for (const a of batch.json()) schema(a, 'Account');
    const many = Array.from({ length: 41 }, (_, i) => `id[]=${i + 1}`).join('&');
    assert.equal((await api.inject({ url: `/api/v1/accounts?${many}` })).statusCode, 422);
  });

  test('roles: the highlighted role is shown, the full role to its user', async () => {
    const mod = await createTestUser(api.ctx, { username: unique('mod') });
    await api.ctx.database.db
      .update(users)
      .set({ roleId: BUILT_IN_ROLES.Moderator.id })
      .where(eq(users.id, mod.user.id));
    invalidateRoles(api.ctx);
    const shown = await api.inject({ url: `/api/v1/accounts/${mod.account.id}` });
    assert.deepEqual(shown.json().roles, [{ id: '1', name: 'Moderator', color: '' }]);
    const me = await api.inject({ url: '/api/v1/accounts/verify_credentials', headers: bearer(mod.token) });
    // Moderator's own bits plus everyone's invite_users.
    assert.deepEqual(me.json().role, {
      id: '1',
      name: 'Moderator',
      permissions: String(BUILT_IN_ROLES.Moderator.permissions | 65536),
      color: '',
      highlighted: true,
    });
    await api.ctx.database.db
      .update(users)
      .set({ roleId: BUILT_IN_ROLES.Owner.id })
      .where(eq(users.id, mod.user.id));
    invalidateRoles(api.ctx);
    const owner = await api.inject({
      url: '/api/v1/accounts/verify_credentials',
      headers: bearer(mod.token),
    });
    assert.equal(owner.json().role.permissions, String((1 << 21) - 1)); // administrator: every permission
  });

  test('suspended accounts show no profile content', async () => {
    const gone = await createTestUser(api.ctx, { username: unique('gone') });
    await api.ctx.database.query(
      `update accounts set suspended_at = now(), display_name = 'Secret', note = 'hidden' where id = ${gone.account.id}`,
    );
    const res = await api.inject({ url: `/api/v1/accounts/${gone.account.id}` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().suspended, true);
    assert.equal(res.json().display_name, '');
    assert.equal(res.json().note, '');
    schema(res.json(), 'Account');
  });

  test('the default avatar and header are real images', async () => {
    for (const url of ['/avatars/original/missing.png', '/headers/original/missing.png']) {
      const res = await api.inject({ url });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], 'image/png');
      assert.deepEqual([...res.rawPayload.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10]);
    }
  });
});
