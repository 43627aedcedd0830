import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { settingsCommand } from '../../src/cli/commands/settings.ts';
import { getSettings, invalidateSettingsCache, SETTING_KEYS } from '../../src/domain/settings/settings.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

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

function capture() {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l: string) => lines.push(l), err: (l: string) => errors.push(l) };
}

test('registrations open | approved [--require-reason] | close, as tootctl', async () => {
  const c = capture();
  assert.equal(await settingsCommand(deps, { action: 'registrations', mode: 'close' }, c.out), 0);
  assert.deepEqual(c.lines, ['OK']);
  assert.equal((await getSettings(deps)).registrations_mode, 'none');

  assert.equal(
    await settingsCommand(deps, { action: 'registrations', mode: 'approved', requireReason: true }, c.out),
    0,
  );
  let settings = await getSettings(deps);
  assert.equal(settings.registrations_mode, 'approved');
  assert.equal(settings.require_invite_text, true);

  // Without the flag the reason requirement stays as it was.
  assert.equal(await settingsCommand(deps, { action: 'registrations', mode: 'approved' }, c.out), 0);
  assert.equal((await getSettings(deps)).require_invite_text, true);
  assert.equal(
    await settingsCommand(deps, { action: 'registrations', mode: 'approved', requireReason: false }, c.out),
    0,
  );
  assert.equal((await getSettings(deps)).require_invite_text, false);

  assert.equal(await settingsCommand(deps, { action: 'registrations', mode: 'open' }, c.out), 0);
  settings = await getSettings(deps);
  assert.equal(settings.registrations_mode, 'open');
});

test('get prints every setting; set changes one, typed', async () => {
  const c = capture();
  assert.equal(await settingsCommand(deps, { action: 'set', key: 'site_title', value: 'Flock' }, c.out), 0);
  assert.equal(
    await settingsCommand(deps, { action: 'set', key: 'require_invite_text', value: 'true' }, c.out),
    0,
  );
  assert.deepEqual(c.lines, ['site_title = "Flock"', 'require_invite_text = true']);
  const g = capture();
  assert.equal(await settingsCommand(deps, { action: 'get' }, g.out), 0);
  assert.ok(
    g.lines.some((l) => /^site_title\s+"Flock"$/.test(l)),
    g.lines.join('\n'),
  );
  assert.ok(g.lines.some((l) => /^registrations_mode\s+"open"$/.test(l)));
  assert.ok(g.lines.some((l) => /^require_invite_text\s+true$/.test(l)));
  assert.equal(g.lines.length, SETTING_KEYS.length);
  assert.ok(g.lines.some((l) => /^oauth_password_grant\s+true$/.test(l)));
});

test('a wrong key or value exits 1 with one line naming the key, and changes nothing', async () => {
  for (const [key, value] of [
    ['no_such_setting', 'x'],
    ['require_invite_text', 'maybe'],
    ['registrations_mode', 'sometimes'],
    ['site_contact_email', 'nope'],
  ] as const) {
    const c = capture();
    assert.equal(await settingsCommand(deps, { action: 'set', key, value }, c.out, c.err), 1);
    assert.deepEqual(c.lines, []);
    assert.equal(c.errors.length, 1);
    assert.match(c.errors[0]!, new RegExp(`^error: .*${key}`));
  }
  assert.equal((await deps.database.query('select key from settings')).length, 0);
});
