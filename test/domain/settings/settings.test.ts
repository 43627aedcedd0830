import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { isDomainError } from '../../../src/domain/errors.ts';
import {
  getSettings,
  invalidateSettingsCache,
  SETTING_DEFAULTS,
  settingUpdatedAt,
  updateSettings,
} from '../../../src/domain/settings/settings.ts';
import { createTestDatabase, type TestDatabase } from '../../support/db.ts';

let testDb: TestDatabase;
let deps: { database: TestDatabase['database'] };

before(async () => {
  testDb = await createTestDatabase();
  deps = { database: testDb.database };
});
after(async () => {
  await testDb?.close();
});
beforeEach(async () => {
  await deps.database.query('delete from settings');
  invalidateSettingsCache(deps);
});

test('defaults when nothing is stored', async () => {
  assert.deepEqual(await getSettings(deps), SETTING_DEFAULTS);
  assert.equal((await getSettings(deps)).site_title, 'Woolly');
  assert.equal((await getSettings(deps)).registrations_mode, 'open');
  assert.equal(await settingUpdatedAt(deps, 'site_title'), null);
});

test('updates are stored as JSON and read back typed', async () => {
  const after = await updateSettings(deps, {
    site_title: 'Flock',
    require_invite_text: true,
    registrations_mode: 'approved',
  });
  assert.equal(after.site_title, 'Flock');
  assert.equal(after.require_invite_text, true);
  const rows = await deps.database.query<{ key: string; value: unknown }>(
    'select key, value from settings order by key',
  );
  assert.deepEqual(
    [...rows],
    [
      { key: 'registrations_mode', value: 'approved' },
      { key: 'require_invite_text', value: true },
      { key: 'site_title', value: 'Flock' },
    ],
  );
  const kinds = await deps.database.query<{ t: string }>(
    "select jsonb_typeof(value) as t from settings where key = 'site_title'",
  );
  assert.equal(kinds[0]?.t, 'string');
  invalidateSettingsCache(deps);
  assert.equal((await getSettings(deps)).site_title, 'Flock');
  assert.ok((await settingUpdatedAt(deps, 'site_title')) instanceof Date);
  // Updating again replaces the value.
  assert.equal((await updateSettings(deps, { site_title: 'Herd' })).site_title, 'Herd');
});

test('an unknown key or a wrong type throws an error naming the key, and nothing is written', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ nope: 1 }, 'nope'],
    [{ site_title: 42 }, 'site_title'],
    [{ site_title: '' }, 'site_title'],
    [{ registrations_mode: 'closed' }, 'registrations_mode'],
    [{ require_invite_text: 'yes' }, 'require_invite_text'],
    [{ site_contact_email: 'not an email' }, 'site_contact_email'],
    [{ status_page_url: 'javascript:alert(1)' }, 'status_page_url'],
    [{ site_short_description: null }, 'site_short_description'],
  ];
  for (const [change, key] of cases) {
    await assert.rejects(updateSettings(deps, { site_title: 'Fine', ...change }), (error: unknown) => {
      assert.ok(isDomainError(error, 'unprocessable'), String(error));
      assert.match(error.message, new RegExp(`\\b${key}\\b`));
      return true;
    });
  }
  assert.equal((await deps.database.query('select key from settings')).length, 0);
});

test('reads are cached briefly; other writers show after the cache expires or is dropped', async () => {
  assert.equal((await getSettings(deps)).site_title, 'Woolly');
  await deps.database.query(`insert into settings (key, value) values ('site_title', '"Elsewhere"'::jsonb)`);
  assert.equal((await getSettings(deps)).site_title, 'Woolly', 'served from the cache');
  invalidateSettingsCache(deps);
  assert.equal((await getSettings(deps)).site_title, 'Elsewhere');
});

test('stored values this version cannot use fall back to the default; unknown keys are ignored', async () => {
  await deps.database.query(
    `insert into settings (key, value) values ('registrations_mode', '"sometimes"'::jsonb), ('other_feature', '{"x":1}'::jsonb)`,
  );
  invalidateSettingsCache(deps);
  const settings = await getSettings(deps);
  assert.equal(settings.registrations_mode, 'open');
  assert.equal(Object.hasOwn(settings, 'other_feature'), false);
});

test('the returned object is a copy', async () => {
  const settings = await getSettings(deps);
  settings.site_title = 'Mutated';
  assert.equal((await getSettings(deps)).site_title, 'Woolly');
});
