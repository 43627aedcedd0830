import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { users } from '../../../src/db/schema/index.ts';
import { noteLength } from '../../../src/domain/accounts/profile.ts';
import {
  changeEmail,
  confirmEmail,
  findUserByLogin,
  prepareConfirmationMail,
  registerAccount,
  sendConfirmation,
} from '../../../src/domain/accounts/registration.ts';
import {
  ALL_PERMISSIONS,
  BUILT_IN_ROLES,
  EVERYONE_PERMISSIONS,
  userRole,
} from '../../../src/domain/accounts/roles.ts';
import { isReservedUsername, normalizeLocale } from '../../../src/domain/accounts/rules.ts';
import { renderBio } from '../../../src/domain/accounts/text.ts';
import { ValidationError } from '../../../src/domain/validation.ts';
import { createTestUser } from '../../support/accounts.ts';
import { createTestContext, type TestContext } from '../../support/context.ts';

let ctx: TestContext;
before(async () => {
  ctx = await createTestContext();
});
after(async () => {
  await ctx?.close();
});

describe('rules', () => {
  test("Mastodon's reserved usernames, exact and partial, with look-alike digits", () => {
    for (const name of [
      'admin',
      'ADMIN',
      'r00t',
      'webmaster',
      'support',
      'mastodon',
      'xmastodonx',
      'M4st0d0n',
    ])
      assert.equal(isReservedUsername(name), true, name);
    for (const name of ['alice', 'administrators_friend', 'rooted', 'helpful'])
      assert.equal(isReservedUsername(name), false, name);
  });

  test('locales outside the available ones are dropped', () => {
    assert.equal(normalizeLocale('pt-BR'), 'pt-BR');
    assert.equal(normalizeLocale('xx'), null);
    assert.equal(normalizeLocale(42), null);
  });

  test('bios: escaped, paragraphs and line breaks; URLs count 23', () => {
    assert.equal(renderBio(''), '');
    assert.equal(renderBio('a & b\r\nc\n\n\nd'), '<p>a &amp; b<br />c</p><p>d</p>');
    assert.equal(noteLength(`https://example.test/${'x'.repeat(200)}`), 23);
    assert.equal(noteLength('👩‍👩‍👧 @user@remote.example'), 7);
  });
});

describe('roles', () => {
  test('the seeded roles have the permissions the code computes', async () => {
    const rows = await ctx.database.query<{
      id: string;
      name: string;
      permissions: string;
      position: number;
    }>(
      'select id::text as id, name, permissions::text as permissions, position from user_roles order by position',
    );
    assert.deepEqual(
      rows.map((r) => [r.id, r.name, Number(r.permissions), Number(r.position)]),
      [
        ['-99', '', EVERYONE_PERMISSIONS, -1],
        ['1', 'Moderator', BUILT_IN_ROLES.Moderator.permissions, 10],
        ['2', 'Admin', BUILT_IN_ROLES.Admin.permissions, 100],
        ['3', 'Owner', BUILT_IN_ROLES.Owner.permissions, 1000],
      ],
    );
    assert.equal((await userRole(ctx, null)).permissions, EVERYONE_PERMISSIONS);
    assert.equal((await userRole(ctx, '3')).permissions, ALL_PERMISSIONS);
    assert.equal(ALL_PERMISSIONS, (1 << 21) - 1);
  });
});

describe('registration and confirmation', () => {
  test('links expire after 2 days and work once; findUserByLogin takes e-mail or username', async () => {
    const { user, account } = await registerAccount(ctx, {
      username: 'Confirmer',
      email: ' Confirmer@Example.TEST ',
      password: 'long enough',
      agreement: true,
    });
    assert.equal(user.email, 'confirmer@example.test');
    assert.equal(user.confirmedAt, null);
    const mail = await prepareConfirmationMail(ctx, user.id);
    assert.ok(mail);
    assert.equal(mail.reconfirmation, false);
    await ctx.database.db
      .update(users)
      .set({ confirmationSentAt: new Date(Date.now() - 3 * 24 * 3600 * 1000) })
      .where(eq(users.id, user.id));
    assert.deepEqual(await confirmEmail(ctx, mail.token), { ok: false, reason: 'expired' });
    const fresh = await prepareConfirmationMail(ctx, user.id);
    const ok = await confirmEmail(ctx, fresh!.token);
    assert.equal(ok.ok, true);
    assert.deepEqual(await confirmEmail(ctx, fresh!.token), { ok: false, reason: 'invalid' });
    assert.deepEqual(await confirmEmail(ctx, ''), { ok: false, reason: 'invalid' });
    // Nothing left to confirm: no new mail.
    assert.equal(await prepareConfirmationMail(ctx, user.id), null);
    assert.equal(await sendConfirmation(ctx, user.id), false);

    assert.equal((await findUserByLogin(ctx, 'CONFIRMER@example.test'))?.account.id, account.id);
    assert.equal((await findUserByLogin(ctx, 'confirmer'))?.user.id, user.id);
    assert.equal(await findUserByLogin(ctx, 'nobody'), undefined);
    assert.equal(await findUserByLogin(ctx, ''), undefined);
  });

  test('changing the e-mail: the old address works until the new one is confirmed', async () => {
    const a = await createTestUser(ctx, { email: 'first@example.test' });
    const b = await createTestUser(ctx, { email: 'taken@example.test' });
    await assert.rejects(changeEmail(ctx, a.user, 'TAKEN@example.test'), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.equal(e.details.email?.[0]?.error, 'ERR_TAKEN');
      return true;
    });
    await assert.rejects(changeEmail(ctx, a.user, 'not an address'), ValidationError);
    await changeEmail(ctx, a.user, 'second@example.test');
    let [row] = await ctx.database.db.select().from(users).where(eq(users.id, a.user.id));
    assert.equal(row!.email, 'first@example.test');
    assert.equal(row!.unconfirmedEmail, 'second@example.test');
    const mail = await prepareConfirmationMail(ctx, a.user.id);
    assert.equal(mail?.to, 'second@example.test');
    assert.equal(mail?.reconfirmation, true);
    const result = await confirmEmail(ctx, mail!.token);
    assert.ok(result.ok && result.emailChanged);
    [row] = await ctx.database.db.select().from(users).where(eq(users.id, a.user.id));
    assert.equal(row!.email, 'second@example.test');
    assert.equal(row!.unconfirmedEmail, null);
    assert.ok(b);
  });

  test('a database-level duplicate becomes the same 422 as the check', async () => {
    const { uniqueViolationAsTaken } = await import('../../../src/domain/accounts/registration.ts');
    const error = Object.assign(
      new Error('duplicate key value violates unique constraint "users_email_idx"'),
      {
        code: '23505',
      },
    );
    const wrapped = Object.assign(new Error('Failed query'), { cause: error });
    assert.equal(uniqueViolationAsTaken(wrapped)?.details.email?.[0]?.error, 'ERR_TAKEN');
    assert.equal(uniqueViolationAsTaken(new Error('other')), undefined);
  });
});
