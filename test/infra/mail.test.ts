import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import { type AddressObject, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAuthentication } from 'smtp-server';
import type { MailConfig } from '../../src/config/config.ts';
import { createMailer, type Mailer } from '../../src/infra/mail/index.ts';
import { type SmtpMailConfig, smtpTransportOptions } from '../../src/infra/mail/smtp.ts';

const FROM = 'Woolly <notifications@woolly.test>';
const REPLY_TO = 'admin@woolly.test';

interface Harness {
  mailer: Mailer;
  /** Raw RFC 5322 messages received so far, in order. */
  received(): Promise<Buffer[]>;
  cleanup(): Promise<void>;
}

const addresses = (a: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => v.address));

/** A local SMTP server that keeps what it receives. */
async function startSmtpServer(opts: { auth?: boolean } = {}) {
  const messages: { raw: Buffer; from: string | undefined; to: string[] }[] = [];
  const logins: SMTPServerAuthentication[] = [];
  const server = new SMTPServer({
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN', 'CRAM-MD5'],
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push(auth);
      const ok =
        auth.username === 'mailer' &&
        (auth.method === 'CRAM-MD5' ? auth.validatePassword('s3cret') : auth.password === 's3cret');
      callback(ok ? null : new Error('bad credentials'), ok ? { user: auth.username } : undefined);
    },
    onData(stream, session, callback) {
      buffer(stream).then((raw) => {
        messages.push({
          raw,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
        });
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const config = (overrides: Partial<SmtpMailConfig> = {}): SmtpMailConfig => ({
    kind: 'smtp',
    host: '127.0.0.1',
    port,
    user: undefined,
    password: undefined,
    authMethod: 'none',
    starttls: 'never',
    tls: false,
    verifyPeer: true,
    from: FROM,
    replyTo: REPLY_TO,
    ...overrides,
  });
  const stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return { messages, logins, config, stop };
}

/** Messages that arrived since `before` (file names only order by millisecond, so no order is assumed). */
async function arrivedSince(h: Harness, before: Buffer[]): Promise<Buffer[]> {
  return (await h.received()).filter((raw) => !before.some((old) => old.equals(raw)));
}

function contract(name: string, make: () => Promise<Harness>) {
  describe(name, () => {
    let h: Harness;
    before(async () => {
      h = await make();
    });
    after(async () => {
      await h.mailer.close();
      await h.cleanup();
    });

    test('a message arrives whole: addresses, subject, both bodies, headers, Message-ID', async () => {
      const before = await h.received();
      const sent = await h.mailer.send({
        to: 'alice@example.test',
        subject: 'Confirm your account on woolly.test — ünïcödé 🐑',
        text: 'Hello Alice,\nfollow https://woolly.test/auth/confirmation?token=abc to confirm. Grüße!',
        html: '<p>Hello Alice, <a href="https://woolly.test/auth/confirmation?token=abc">confirm</a>. Grüße!</p>',
        headers: { 'X-Woolly-Kind': 'confirmation', 'List-Unsubscribe': '<https://woolly.test/unsubscribe>' },
      });
      assert.match(sent.messageId, /^<[^<>@\s]+@[^<>@\s]+>$/);
      const fresh = await arrivedSince(h, before);
      assert.equal(fresh.length, 1);
      const mail = await simpleParser(fresh[0]!);
      assert.equal(mail.messageId, sent.messageId);
      assert.deepEqual(addresses(mail.from), ['notifications@woolly.test']);
      assert.equal(mail.from?.value[0]?.name, 'Woolly');
      assert.deepEqual(addresses(mail.replyTo), [REPLY_TO]);
      assert.deepEqual(addresses(mail.to), ['alice@example.test']);
      assert.equal(mail.subject, 'Confirm your account on woolly.test — ünïcödé 🐑');
      assert.equal(
        mail.text?.trim(),
        'Hello Alice,\nfollow https://woolly.test/auth/confirmation?token=abc to confirm. Grüße!',
      );
      assert.equal(
        typeof mail.html === 'string' ? mail.html.trim() : mail.html,
        '<p>Hello Alice, <a href="https://woolly.test/auth/confirmation?token=abc">confirm</a>. Grüße!</p>',
      );
      assert.equal(mail.headers.get('x-woolly-kind'), 'confirmation');
      assert.equal(
        mail.headerLines.find((l) => l.key === 'list-unsubscribe')?.line,
        'List-Unsubscribe: <https://woolly.test/unsubscribe>',
      );
    });

    test('a text-only message has no HTML part, and each message gets its own Message-ID', async () => {
      const before = await h.received();
      const one = await h.mailer.send({ to: 'bob@example.test', subject: 'one', text: 'first' });
      const two = await h.mailer.send({ to: 'carol@example.test', subject: 'two', text: 'second' });
      assert.notEqual(one.messageId, two.messageId);
      const fresh = await Promise.all((await arrivedSince(h, before)).map((raw) => simpleParser(raw)));
      assert.equal(fresh.length, 2);
      const a = fresh.find((m) => m.messageId === one.messageId);
      const b = fresh.find((m) => m.messageId === two.messageId);
      assert.equal(a?.subject, 'one');
      assert.equal(b?.subject, 'two');
      assert.deepEqual(addresses(b?.to), ['carol@example.test']);
      assert.equal(a?.html, false);
      assert.equal(a?.text?.trim(), 'first');
    });

    test('line breaks in the subject cannot inject headers', async () => {
      const before = await h.received();
      await h.mailer.send({
        to: 'dave@example.test',
        subject: 'Hi\r\nBcc: victim@evil.test\r\nX-Injected: yes',
        text: 'body',
      });
      const fresh = await arrivedSince(h, before);
      assert.equal(fresh.length, 1);
      const mail = await simpleParser(fresh[0]!);
      assert.equal(mail.headers.has('bcc'), false);
      assert.equal(mail.headers.has('x-injected'), false);
      assert.deepEqual(addresses(mail.to), ['dave@example.test']);
    });
  });
}

contract('file mailer', async () => {
  const dir = join(await mkdtemp(join(tmpdir(), 'woolly-mail-')), 'mail');
  const config: MailConfig = { kind: 'file', dir, from: FROM, replyTo: REPLY_TO };
  const mailer = await createMailer(config);
  return {
    mailer,
    received: async () => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return [];
      }
      const emls = names.filter((n) => n.endsWith('.eml')).sort();
      return Promise.all(emls.map((n) => readFile(join(dir, n))));
    },
    cleanup: () => rm(join(dir, '..'), { recursive: true, force: true }),
  };
});

describe('file mailer specifics', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'woolly-mail-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('writes <ISO time>-<random>.eml with a .json sidecar and nothing else', async () => {
    const dir = join(root, 'nested', 'mail');
    const mailer = await createMailer({ kind: 'file', dir, from: FROM, replyTo: undefined });
    const startedAt = Date.now();
    const sent = await mailer.send({
      to: 'erin@example.test',
      subject: 'Sidecar',
      text: 'plain',
      html: '<b>rich</b>',
    });
    await mailer.send({ to: 'erin@example.test', subject: 'Sidecar 2', text: 'plain 2' });
    await mailer.close();
    const names = (await readdir(dir)).sort();
    assert.equal(names.length, 4, names.join(', '));
    const pattern = /^(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z)-[0-9a-f]{8}\.(eml|json)$/;
    for (const n of names) assert.match(n, pattern);
    const bases = new Set(names.map((n) => n.replace(/\.(eml|json)$/, '')));
    assert.equal(bases.size, 2, 'each .eml has its .json');
    const stamp = pattern.exec(names[0]!)![1]!.replace(/T(\d\d)-(\d\d)-(\d\d)/, 'T$1:$2:$3');
    assert.ok(Math.abs(Date.parse(stamp) - startedAt) < 5000, `timestamp ${stamp}`);
    const sidecars = new Map<string, Record<string, unknown>>();
    for (const base of bases)
      sidecars.set(base, JSON.parse(await readFile(join(dir, `${base}.json`), 'utf8')));
    const [firstBase, first] = [...sidecars].find(([, s]) => s.subject === 'Sidecar')!;
    assert.deepEqual(first, {
      messageId: sent.messageId,
      to: 'erin@example.test',
      subject: 'Sidecar',
      text: 'plain',
      html: '<b>rich</b>',
    });
    assert.equal([...sidecars.values()].find((s) => s.subject === 'Sidecar 2')?.html, null);
    // The sidecar describes the .eml beside it.
    const mail = await simpleParser(await readFile(join(dir, `${firstBase}.eml`)));
    assert.equal(mail.messageId, sent.messageId);
    assert.equal(mail.subject, 'Sidecar');
    assert.equal(mail.replyTo, undefined, 'no Reply-To when none is configured');
  });
});

describe('smtp mailer', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  before(async () => {
    smtp = await startSmtpServer();
  });
  after(async () => {
    await smtp.stop();
  });

  contract('contract', async () => ({
    mailer: await createMailer(smtp.config()),
    received: async () => smtp.messages.map((m) => m.raw),
    cleanup: async () => {},
  }));

  test('the envelope goes from the configured address to the recipient', async () => {
    const mailer = await createMailer(smtp.config());
    try {
      await mailer.send({ to: 'frank@example.test', subject: 'envelope', text: 'x' });
      const last = smtp.messages.at(-1);
      assert.equal(last?.from, 'notifications@woolly.test');
      assert.deepEqual(last?.to, ['frank@example.test']);
    } finally {
      await mailer.close();
    }
  });

  test('STARTTLS "always" refuses a server that does not offer it', async () => {
    const mailer = await createMailer(smtp.config({ starttls: 'always' }));
    try {
      const count = smtp.messages.length;
      await assert.rejects(mailer.send({ to: 'grace@example.test', subject: 'tls', text: 'x' }));
      assert.equal(smtp.messages.length, count, 'nothing was delivered in clear text');
    } finally {
      await mailer.close();
    }
  });
});

describe('smtp mailer authentication', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  before(async () => {
    smtp = await startSmtpServer({ auth: true });
  });
  after(async () => {
    await smtp.stop();
  });

  for (const [authMethod, wire] of [
    ['plain', 'PLAIN'],
    ['login', 'LOGIN'],
    ['cram_md5', 'CRAM-MD5'],
  ] as const) {
    test(`logs in with ${wire} when SMTP_AUTH_METHOD=${authMethod}`, async () => {
      const mailer = await createMailer(smtp.config({ authMethod, user: 'mailer', password: 's3cret' }));
      try {
        const count = smtp.messages.length;
        await mailer.send({ to: 'heidi@example.test', subject: 'auth', text: 'x' });
        assert.equal(smtp.messages.length, count + 1);
        assert.equal(smtp.logins.at(-1)?.method, wire);
        assert.equal(smtp.logins.at(-1)?.username, 'mailer');
      } finally {
        await mailer.close();
      }
    });
  }

  test('a wrong password is an error, not a silent drop', async () => {
    const mailer = await createMailer(
      smtp.config({ authMethod: 'plain', user: 'mailer', password: 'wrong' }),
    );
    try {
      await assert.rejects(
        mailer.send({ to: 'ivan@example.test', subject: 'auth', text: 'x' }),
        /bad credentials|auth/i,
      );
    } finally {
      await mailer.close();
    }
  });
});

test('SMTP settings map to nodemailer options as Mastodon reads them', () => {
  const base: SmtpMailConfig = {
    kind: 'smtp',
    host: 'smtp.example.test',
    port: 587,
    user: 'u',
    password: 'p',
    authMethod: 'plain',
    starttls: 'auto',
    tls: false,
    verifyPeer: true,
    from: FROM,
    replyTo: undefined,
  };
  const auto = smtpTransportOptions(base);
  assert.equal(auto.host, 'smtp.example.test');
  assert.equal(auto.port, 587);
  assert.equal(auto.secure, false);
  assert.equal(auto.ignoreTLS, false);
  assert.equal(auto.requireTLS, false);
  assert.equal(auto.tls?.rejectUnauthorized, true);
  assert.deepEqual(auto.auth, { user: 'u', pass: 'p', method: 'PLAIN' });

  assert.equal(smtpTransportOptions({ ...base, starttls: 'never' }).ignoreTLS, true);
  assert.equal(smtpTransportOptions({ ...base, starttls: 'always' }).requireTLS, true);
  assert.equal(smtpTransportOptions({ ...base, tls: true, port: 465 }).secure, true);
  assert.equal(smtpTransportOptions({ ...base, verifyPeer: false }).tls?.rejectUnauthorized, false);
  assert.equal(smtpTransportOptions({ ...base, authMethod: 'none' }).auth, undefined);
  assert.equal(smtpTransportOptions({ ...base, user: undefined }).auth, undefined);
});
