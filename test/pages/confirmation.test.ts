import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { eq } from 'drizzle-orm';
import { users } from '../../src/db/schema/index.ts';
import { sendConfirmation } from '../../src/domain/accounts/registration.ts';
import { createTestUser } from '../support/accounts.ts';
import { apiHarness } from '../support/api.ts';

const api = apiHarness({ mailWorker: true });

async function confirmationLink(to: string): Promise<string> {
  const dir = (api.ctx.config.mail as { dir: string }).dir;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
    for (const f of files) {
      const mail = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { to: string; text: string };
      const match = /(\/auth\/confirmation\?confirmation_token=[A-Za-z0-9_-]+)/.exec(mail.text);
      if (mail.to === to && match) return match[1]!;
    }
    if (Date.now() > deadline) assert.fail(`no confirmation mail to ${to}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the confirmation link confirms once; the notice page goes away', async () => {
  const bob = await createTestUser(api.ctx, {
    username: 'bob',
    email: 'bob@example.test',
    password: 'bob password',
    confirmed: false,
  });
  const browser = api.browser();
  assert.equal((await browser.signIn('bob', 'bob password')).headers.location, '/auth/setup');
  assert.equal(await sendConfirmation(api.ctx, bob.user.id), true);
  const link = await confirmationLink('bob@example.test');

  const res = await browser.get(link);
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /Your email address has been successfully confirmed\./);
  assert.match(res.body, /href="\/settings"/);
  const [row] = await api.ctx.database.db.select().from(users).where(eq(users.id, bob.user.id));
  assert.ok(row?.confirmedAt);
  assert.equal((await browser.get('/auth/setup')).statusCode, 302);
  assert.equal((await browser.get('/settings')).statusCode, 200);

  const again = await api.browser().get(link);
  assert.equal(again.statusCode, 404);
  assert.match(again.body, /confirmation link is invalid/);
});

test('an unknown or missing token is a 404 page; an expired one 422', async () => {
  for (const url of ['/auth/confirmation?confirmation_token=nope', '/auth/confirmation']) {
    const res = await api.inject({ method: 'GET', url });
    assert.equal(res.statusCode, 404, url);
    assert.match(String(res.headers['content-type']), /^text\/html/);
  }
  const carol = await createTestUser(api.ctx, {
    username: 'carol',
    email: 'carol@example.test',
    confirmed: false,
  });
  await sendConfirmation(api.ctx, carol.user.id);
  const link = await confirmationLink('carol@example.test');
  await api.ctx.database.db
    .update(users)
    .set({ confirmationSentAt: new Date(Date.now() - 30 * 24 * 3600 * 1000) })
    .where(eq(users.id, carol.user.id));
  const res = await api.inject({ method: 'GET', url: link });
  assert.equal(res.statusCode, 422);
  const [row] = await api.ctx.database.db.select().from(users).where(eq(users.id, carol.user.id));
  assert.equal(row?.confirmedAt, null);
});
