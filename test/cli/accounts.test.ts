import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/config.ts';
import { openDatabaseForCommand } from '../../src/db/index.ts';
import { verifyPassword } from '../../src/domain/accounts/passwords.ts';
import { authenticateToken } from '../../src/domain/auth/tokens.ts';
import { cleanEnv, runWoolly, runWoollyInProcess, tempDir } from '../support/cli.ts';

/**
 * `woolly accounts …` end to end, on a fresh embedded data directory, as an operator runs it: the
 * commands run in-process (runWoollyInProcess), one in its own process to prove the wiring.
 */
const dir = tempDir();
const env = cleanEnv({ WOOLLY_DATA_DIR: join(dir, 'data'), LOCAL_DOMAIN: 'cli.example' });
const woolly = (...args: string[]) => runWoollyInProcess(['accounts', ...args], { env, cwd: dir });

const passwords: Record<string, string> = {};

async function inspect<T>(
  fn: (db: Awaited<ReturnType<typeof openDatabaseForCommand>>['database']) => Promise<T>,
) {
  const config = loadConfig({ env, cwd: dir, readFiles: false });
  const { database } = await openDatabaseForCommand(config);
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

const userRow = (username: string) =>
  inspect(async (db) => {
    const rows = await db.query<Record<string, unknown>>(
      `select u.*, a.username from users u join accounts a on a.id = u.account_id where lower(a.username) = lower('${username}')`,
    );
    return rows[0];
  });

after(() => rmSync(dir, { recursive: true, force: true }));

test('create prints the password last; the role, confirmation and approval are set', async () => {
  const r = await woolly('create', 'admin', '--email', 'Admin@CLI.example', '--role', 'Owner', '--confirmed');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], 'OK');
  const match = /^New password: ([0-9a-f]{32})$/.exec(lines.at(-1) ?? '');
  assert.ok(match, r.stdout);
  passwords.admin = match[1]!;
  const row = await userRow('admin');
  assert.equal(row?.email, 'admin@cli.example');
  assert.equal(String(row?.role_id), '3');
  assert.ok(row?.confirmed_at);
  assert.equal(row?.approved, true); // registrations are open by default
  assert.equal(await verifyPassword(passwords.admin, String(row?.encrypted_password)), true);

  // The real process: a command's refusal is its exit status and its one line on stderr.
  const taken = await runWoolly(['accounts', 'create', 'ADMIN', '--email', 'other@cli.example'], {
    env,
    cwd: dir,
  });
  assert.equal(taken.code, 1, taken.stderr);
  assert.match(taken.stderr, /Username has already been taken/);
  const badRole = await woolly('create', 'carol', '--email', 'carol@cli.example', '--role', 'Wizard');
  assert.equal(badRole.code, 1);
  assert.match(badRole.stderr, /Cannot find user role with that name/);
  assert.equal(await userRow('carol'), undefined);
});

test('usage errors exit 2 and change nothing', async () => {
  for (const args of [
    ['create', 'dave'], // --email is required
    ['modify', 'admin', '--enable', '--disable'],
    ['modify', 'admin', '--role', 'Admin', '--remove-role'],
    ['approve'],
    ['approve', 'admin', '--all'],
    ['approve', '--number', '0'],
    ['token', 'admin', '--scopes', 'read telepathy'],
    ['frobnicate'],
  ]) {
    const r = await woolly(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  }
  assert.equal(await userRow('dave'), undefined);
});

test('modify: role, password reset (signs out), disable, 2FA off, e-mail; unknown user → exit 1', async () => {
  const token = await woolly('token', 'admin', '--scopes', 'read write');
  assert.equal(token.code, 0, token.stderr);
  const accessToken = token.stdout.trim();

  const r = await woolly(
    'modify',
    'admin',
    '--role',
    'Moderator',
    '--reset-password',
    '--email',
    'new@cli.example',
  );
  assert.equal(r.code, 0, r.stderr);
  const password = /New password: ([0-9a-f]{32})/.exec(r.stdout)?.[1];
  assert.ok(password);
  const row = await userRow('admin');
  assert.equal(String(row?.role_id), '1');
  assert.equal(row?.email, 'new@cli.example');
  assert.equal(await verifyPassword(password, String(row?.encrypted_password)), true);
  assert.equal(await verifyPassword(passwords.admin!, String(row?.encrypted_password)), false);
  // The reset revoked the token issued before it.
  assert.equal(await inspect((database) => authenticateToken({ database }, accessToken)), null);

  assert.equal((await woolly('modify', 'admin', '--disable', '--remove-role', '--disable-2fa')).code, 0);
  const disabled = await userRow('admin');
  assert.equal(disabled?.disabled, true);
  assert.equal(disabled?.role_id, null);
  assert.equal(disabled?.otp_required_for_login, false);
  assert.equal((await woolly('modify', 'admin', '--enable')).code, 0);
  assert.equal((await userRow('admin'))?.disabled, false);

  const missing = await woolly('modify', 'nobody', '--confirm');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No user with such username/);
});

test('approve one, the oldest N, or all; confirm', async () => {
  const settings = await runWoollyInProcess(['settings', 'registrations', 'approved'], { env, cwd: dir });
  assert.equal(settings.code, 0, settings.stderr);
  for (const name of ['p1', 'p2', 'p3', 'p4']) {
    const r = await woolly('create', name, '--email', `${name}@cli.example`);
    assert.equal(r.code, 0, r.stderr);
  }
  const pending = await userRow('p1');
  assert.equal(pending?.approved, false);
  assert.equal(pending?.confirmed_at, null);
  assert.equal((await woolly('approve', 'p4')).code, 0);
  assert.equal((await userRow('p4'))?.approved, true);
  const two = await woolly('approve', '--number', '2');
  assert.equal(two.code, 0);
  assert.match(two.stdout, /OK \(2 approved\)/);
  assert.equal((await userRow('p1'))?.approved, true);
  assert.equal((await userRow('p3'))?.approved, false);
  assert.equal((await woolly('approve', '--all')).code, 0);
  assert.equal((await userRow('p3'))?.approved, true);
  assert.equal((await woolly('approve', 'ghost')).code, 1);
  assert.equal((await woolly('modify', 'p1', '--confirm')).code, 0);
  assert.ok((await userRow('p1'))?.confirmed_at);
  // The unconfirmed ones got a confirmation mail job.
  const jobs = await inspect((db) =>
    db.query<{ n: string }>("select count(*) as n from jobs where name = 'confirmation_instructions'"),
  );
  assert.ok(Number(jobs[0]?.n) >= 4);
});

test('token prints a working token for an app owned by the user; delete removes the account', async () => {
  const r = await woolly('token', 'p2', '--scopes', 'read:accounts write:statuses', '--app', 'My bot');
  assert.equal(r.code, 0, r.stderr);
  const auth = await inspect((database) => authenticateToken({ database }, r.stdout.trim()));
  assert.deepEqual(auth?.scopes, ['read:accounts', 'write:statuses']);
  assert.equal(auth?.application?.name, 'My bot');
  assert.equal(auth?.application?.ownerUserId, auth?.user?.id);
  const again = await woolly('token', 'p2', '--app', 'My bot');
  assert.equal(again.code, 0);
  const auth2 = await inspect((database) => authenticateToken({ database }, again.stdout.trim()));
  assert.equal(auth2?.application?.id, auth?.application?.id);

  const del = await woolly('delete', 'p2');
  assert.equal(del.code, 0, del.stderr);
  assert.equal(await userRow('p2'), undefined);
  assert.equal(await inspect((database) => authenticateToken({ database }, r.stdout.trim())), null);
  assert.equal((await woolly('delete', 'p2')).code, 1);
});
