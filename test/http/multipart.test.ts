import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { fileParam, nestParams, ParamsError, stringList, truthy } from '../../src/api/params.ts';
import { MEDIA_LIMITS } from '../../src/domain/limits.ts';
import { isUploadedFile, UploadedFile } from '../../src/domain/media/upload.ts';
import { createTestApp, createTestUser } from '../support/accounts.ts';
import { apiHarness, buildTestServer } from '../support/api.ts';

/** A small body limit, so that text overflow is cheap to provoke. */
const BODY_LIMIT = 65_536;

/** Requests the /test/wait route holds until the test lets them go. */
const held: { release: () => void }[] = [];
let handlerFinished = 0;

/** The body as the handler sees it, files described (size, name, type, content digest, path). */
function describeBody(value: unknown): unknown {
  if (isUploadedFile(value)) {
    return {
      uploaded: true,
      filename: value.filename,
      mimetype: value.mimetype,
      size: value.size,
      sha256: createHash('sha256').update(readFileSync(value.path)).digest('hex'),
      path: value.path,
    };
  }
  if (Array.isArray(value)) return value.map(describeBody);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, describeBody(v)]));
  }
  return value;
}

function testRoutes(app: FastifyInstance): void {
  app.post('/test/echo', async (request) => ({ body: describeBody(request.body ?? null) }));
  app.post('/test/file', async (request) => {
    const file = fileParam((request.body ?? {}) as Record<string, unknown>, 'file');
    return { size: file?.size ?? null };
  });
  app.post('/test/list', async (request) => ({
    ids: stringList(((request.body ?? {}) as Record<string, unknown>).ids),
  }));
  app.post('/test/wait', async (request) => {
    await new Promise<void>((release) => held.push({ release }));
    handlerFinished++;
    return { body: describeBody(request.body ?? null) };
  });
}

const api = apiHarness({
  context: { env: { WOOLLY_BODY_LIMIT: String(BODY_LIMIT) } },
  routes: testRoutes,
  listen: true,
});

type Part =
  | { name: string; value: string; type?: string }
  | { name: string; file: Buffer; filename: string; type?: string };

/** A multipart/form-data body, written out byte for byte as clients send it. */
function multipart(parts: Part[], boundary = `----woolly${randomBytes(8).toString('hex')}`) {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if ('file' in part) head += `; filename="${part.filename}"`;
    head += '\r\n';
    if (part.type !== undefined) head += `Content-Type: ${part.type}\r\n`;
    else if ('file' in part) head += 'Content-Type: application/octet-stream\r\n';
    chunks.push(
      Buffer.from(`${head}\r\n`),
      'file' in part ? part.file : Buffer.from(part.value),
      Buffer.from('\r\n'),
    );
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

async function send(
  method: 'POST' | 'PATCH',
  url: string,
  parts: Part[],
  headers: Record<string, string> = {},
) {
  const { payload, contentType } = multipart(parts);
  const response = await api.inject({
    method,
    url,
    payload,
    headers: { 'content-type': contentType, ...headers },
  });
  return {
    status: response.statusCode,
    body: response.body === '' ? undefined : response.json(),
    headers: response.headers,
  };
}

const fields = (values: [string, string][]): Part[] => values.map(([name, value]) => ({ name, value }));

async function waitFor(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The server's upload directory, learnt from the path of a file it received. */
let uploadDir: string | undefined;
async function uploads(): Promise<string> {
  if (uploadDir === undefined) {
    const response = await send('POST', '/test/echo', [
      { name: 'file', file: Buffer.from('x'), filename: 'x.txt' },
    ]);
    uploadDir = dirname(response.body.body.file.path);
  }
  return uploadDir;
}
const uploadsEmpty = (dir: string) => !existsSync(dir) || readdirSync(dir).length === 0;

/** A raw HTTP/1.1 request on a socket, so that a test can stop or cut the body where it likes. */
function rawRequest(head: string): { socket: Socket; response: Promise<string>; closed: Promise<void> } {
  const url = new URL(api.url);
  const socket = connect(Number(url.port), url.hostname);
  socket.on('error', () => {}); // the server may close a connection whose body it refused
  let received = '';
  let gotResponse: (text: string) => void = () => {};
  const response = new Promise<string>((resolve, reject) => {
    gotResponse = resolve;
    setTimeout(() => reject(new Error('no response within 20 s')), 20_000).unref();
  });
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
    const end = received.indexOf('\r\n\r\n');
    if (end === -1) return;
    const length = /\r\ncontent-length: (\d+)/i.exec(received.slice(0, end));
    if (length && received.length >= end + 4 + Number(length[1])) gotResponse(received);
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write(head);
  return { socket, response, closed };
}

const write = (socket: Socket, data: Buffer | string) =>
  new Promise<void>((resolve, reject) => socket.write(data, (error) => (error ? reject(error) : resolve())));

function parseResponse(text: string) {
  const end = text.indexOf('\r\n\r\n');
  const [statusLine, ...headerLines] = text.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => [
      line.slice(0, line.indexOf(':')).toLowerCase(),
      line.slice(line.indexOf(':') + 1).trim(),
    ]),
  );
  return { status: Number(statusLine!.split(' ')[1]), headers, body: JSON.parse(text.slice(end + 4)) };
}

// A server that waited for the whole body would leave the raw-socket tests hanging: time them out.
describe('multipart/form-data as parameters', { timeout: 300_000 }, () => {
  test('registration (POST /api/v1/accounts) creates the account', async () => {
    const { token } = await createTestApp(api.ctx, { scopes: 'read write', appToken: true });
    const username = `mp${randomBytes(4).toString('hex')}`;
    const response = await send(
      'POST',
      '/api/v1/accounts',
      fields([
        ['username', username],
        ['email', `${username}@example.test`],
        ['password', 'correct horse battery staple'],
        ['agreement', 'true'],
        ['locale', 'en'],
      ]),
      { authorization: `Bearer ${token!}` },
    );
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(typeof response.body.access_token, 'string');
    const rows = await api.ctx.database.query<{ email: string }>(
      'select u.email from users u join accounts a on a.id = u.account_id where a.username = $1',
      [username],
    );
    assert.deepEqual(
      rows.map((r) => r.email),
      [`${username}@example.test`],
    );
  });

  test('update_credentials: text, Rails booleans and nested fields_attributes', async () => {
    const alice = await createTestUser(api.ctx);
    const auth = { authorization: `Bearer ${alice.token}` };
    const first = await send(
      'PATCH',
      '/api/v1/accounts/update_credentials',
      fields([
        ['display_name', 'Alice Multipart'],
        ['note', 'Hello from a form'],
        ['locked', '1'],
        ['fields_attributes[0][name]', 'Site'],
        ['fields_attributes[0][value]', 'https://alice.example'],
        ['fields_attributes[1][name]', 'Pronouns'],
        ['fields_attributes[1][value]', 'she/her'],
      ]),
      auth,
    );
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.display_name, 'Alice Multipart');
    assert.equal(first.body.locked, true);
    assert.equal(first.body.source.note, 'Hello from a form');
    assert.deepEqual(
      first.body.source.fields.map((f: { name: string; value: string }) => [f.name, f.value]),
      [
        ['Site', 'https://alice.example'],
        ['Pronouns', 'she/her'],
      ],
    );
    // "f" is one of Rails' false spellings.
    const second = await send(
      'PATCH',
      '/api/v1/accounts/update_credentials',
      fields([['locked', 'f']]),
      auth,
    );
    assert.equal(second.status, 200);
    assert.equal(second.body.locked, false);
    assert.equal(second.body.display_name, 'Alice Multipart');
  });

  test('the access token may come as a multipart field, as in a form body', async () => {
    const bob = await createTestUser(api.ctx);
    const response = await send(
      'PATCH',
      '/api/v1/accounts/update_credentials',
      fields([
        ['access_token', bob.token],
        ['display_name', 'Bob by field'],
      ]),
    );
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.display_name, 'Bob by field');
  });

  test('file parts arrive as UploadedFile values at their nested place, removed after the response', async () => {
    const png = randomBytes(200_000);
    const thumb = randomBytes(1234);
    const response = await send('POST', '/test/echo', [
      { name: 'file', file: png, filename: 'cat.png', type: 'image/png' },
      { name: 'thumbnail', file: thumb, filename: 'thumb.JPG', type: 'Image/JPEG; charset=binary' },
      { name: 'description', value: 'A cat' },
      { name: 'focus', value: '0.5,-0.25' },
      { name: 'media[][file]', file: Buffer.from('abc'), filename: 'a.txt', type: 'text/plain' },
      { name: 'media[][description]', value: 'first' },
      { name: 'media[][file]', file: Buffer.alloc(0), filename: 'empty.bin' },
      // An unchosen file input: dropped, as Rack does.
      { name: 'header', file: Buffer.alloc(0), filename: '' },
    ]);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const body = response.body.body;
    const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    assert.deepEqual(
      { ...body.file, path: undefined },
      {
        uploaded: true,
        filename: 'cat.png',
        mimetype: 'image/png',
        size: png.length,
        sha256: digest(png),
        path: undefined,
      },
    );
    assert.equal(body.thumbnail.filename, 'thumb.JPG');
    assert.equal(body.thumbnail.mimetype, 'image/jpeg');
    assert.equal(body.thumbnail.size, thumb.length);
    assert.equal(body.description, 'A cat');
    assert.equal(body.focus, '0.5,-0.25');
    assert.equal(body.media.length, 2);
    assert.equal(body.media[0].file.size, 3);
    assert.equal(body.media[0].description, 'first');
    assert.equal(body.media[1].file.size, 0);
    assert.equal(body.media[1].file.filename, 'empty.bin');
    assert.equal('header' in body, false);
    // The temporary file is never named after the client's file name.
    assert.ok(!body.file.path.includes('cat'));
    const paths = [body.file.path, body.thumbnail.path, body.media[0].file.path, body.media[1].file.path];
    await waitFor(() => paths.every((p: string) => !existsSync(p)), 'the temporary files to go');
  });

  test('nesting follows the form rules exactly: same parameters from a form and from multipart', async () => {
    const pairs: [string, string][] = [
      ['a', '1'],
      ['ids[]', '1'],
      ['ids[]', '2'],
      ['data[alerts][follow]', 'true'],
      ['f[0][name]', 'x'],
      ['k[][a]', '1'],
      ['k[][b]', '2'],
      ['k[][a]', '3'],
      ['__proto__[polluted]', 'yes'],
      ['p[__proto__][q]', 'yes'],
    ];
    const form = await api.inject({
      method: 'POST',
      url: '/test/echo',
      payload: new URLSearchParams(pairs).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const viaMultipart = await send('POST', '/test/echo', fields(pairs));
    assert.equal(form.statusCode, 200);
    assert.equal(viaMultipart.status, 200);
    assert.deepEqual(viaMultipart.body, form.json());
    assert.deepEqual(viaMultipart.body.body, {
      a: '1',
      ids: ['1', '2'],
      data: { alerts: { follow: 'true' } },
      f: { '0': { name: 'x' } },
      k: [{ a: '1', b: '2' }, { a: '3' }],
      p: {},
    });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('JSON bodies are unchanged', async () => {
    const json = await api.inject({
      method: 'POST',
      url: '/test/echo',
      payload: { a: [1, { b: true }], 'x[y]': 'z' },
    });
    assert.equal(json.statusCode, 200);
    assert.deepEqual(json.json().body, { a: [1, { b: true }], 'x[y]': 'z' });
    const empty = await api.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
    });
    assert.deepEqual(empty.json(), { body: null });
  });

  test('a part declared application/json is text, as in Rails', async () => {
    const response = await send('POST', '/test/echo', [
      { name: 'meta', value: '{"a":1}', type: 'application/json' },
    ]);
    assert.equal(response.status, 200);
    assert.equal(response.body.body.meta, '{"a":1}');
    const bad = await send('POST', '/test/echo', [
      { name: 'meta', value: '{oops', type: 'application/json' },
    ]);
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /application\/json/);
  });

  test('a file where text is expected, and text where a file is expected, are named errors', async () => {
    const asText = await send('POST', '/test/list', [
      { name: 'ids[]', file: Buffer.from('1'), filename: '1.txt' },
    ]);
    assert.equal(asText.status, 400);
    assert.deepEqual(asText.body, { error: 'ids[] must be text' });
    const asFile = await send('POST', '/test/file', fields([['file', 'not a file']]));
    assert.equal(asFile.status, 400);
    assert.match(asFile.body.error, /^file must be a file/);
    const file = await send('POST', '/test/file', [
      { name: 'file', file: Buffer.from('12345'), filename: 'f' },
    ]);
    assert.deepEqual(file.body, { size: 5 });
    const none = await send('POST', '/test/file', fields([['other', 'x']]));
    assert.deepEqual(none.body, { size: null });
    // The helpers themselves, on nested names.
    const nested = nestParams([
      ['opts[only_media]', new UploadedFile('/nonexistent', 'x', 'text/plain', 1)],
      ['opts[local]', 'true'],
    ]);
    const opts = nested.opts as Record<string, unknown>;
    assert.equal(truthy(opts.local), true);
    assert.throws(() => truthy(opts.only_media), new ParamsError('opts[only_media] must be text'));
    assert.throws(() => fileParam(opts, 'local'), /^ParamsError: local must be a file/);
    // A real route: media ids are text.
    const carol = await createTestUser(api.ctx);
    const status = await send(
      'POST',
      '/api/v1/statuses',
      [
        { name: 'status', value: 'hello' },
        { name: 'media_ids[]', file: Buffer.from('1'), filename: 'id.txt' },
      ],
      { authorization: `Bearer ${carol.token}` },
    );
    assert.equal(status.status, 400);
    assert.deepEqual(status.body, { error: 'media_ids[] must be text' });
  });

  test('limits of the parameters: count, depth, conflicts, prototype names', async () => {
    const dave = await createTestUser(api.ctx);
    const auth = { authorization: `Bearer ${dave.token}` };
    const many = fields([
      ['display_name', 'Too many'],
      ...Array.from({ length: 1000 }, (_, i): [string, string] => [`x${i}`, '1']),
    ]);
    const tooMany = await send('PATCH', '/api/v1/accounts/update_credentials', many, auth);
    assert.equal(tooMany.status, 400);
    assert.deepEqual(tooMany.body, { error: 'Too many parameters (at most 1000)' });
    const exactly = await send('POST', '/test/echo', many.slice(1));
    assert.equal(exactly.status, 200);
    assert.equal(Object.keys(exactly.body.body).length, 1000);

    const deep = await send('POST', '/test/echo', fields([['a[1][2][3][4][5][6][7][8][9]', 'x']]));
    assert.equal(deep.status, 400);
    assert.match(deep.body.error, /nested too deeply/);
    const conflict = await send('POST', '/test/echo', [
      { name: 'a', value: 'x' },
      { name: 'a[b]', file: Buffer.from('1'), filename: 'b' },
    ]);
    assert.equal(conflict.status, 400);
    assert.match(conflict.body.error, /a\[b\] conflicts/);
    const proto = await send('POST', '/test/echo', fields([['__proto__', 'x']]));
    assert.equal(proto.status, 400);
    assert.match(proto.body.error, /Object\.prototype/);

    const me = await api.call(dave, 'GET', '/api/v1/accounts/verify_credentials');
    assert.notEqual(me.body.display_name, 'Too many');
    const dir = await uploads();
    await waitFor(() => uploadsEmpty(dir), 'the upload directory to empty');
  });

  test('text fields are limited to the body limit, each and together', async () => {
    const erin = await createTestUser(api.ctx);
    const auth = { authorization: `Bearer ${erin.token}` };
    const one = await send(
      'PATCH',
      '/api/v1/accounts/update_credentials',
      fields([['note', 'n'.repeat(BODY_LIMIT + 1)]]),
      auth,
    );
    assert.equal(one.status, 413);
    assert.deepEqual(one.body, {
      error: `note is too large: a text field may be at most ${BODY_LIMIT} bytes`,
    });
    const half = 'h'.repeat(BODY_LIMIT / 2);
    const together = await send(
      'PATCH',
      '/api/v1/accounts/update_credentials',
      fields([
        ['display_name', 'Together'],
        ['note', half],
        ['other', half],
      ]),
      auth,
    );
    assert.equal(together.status, 413);
    assert.match(together.body.error, new RegExp(`at most ${BODY_LIMIT} bytes in all`));
    // Files do not count towards it.
    const withFile = await send('POST', '/test/echo', [
      { name: 'note', value: half },
      { name: 'file', file: randomBytes(BODY_LIMIT * 4), filename: 'big.bin' },
    ]);
    assert.equal(withFile.status, 200);
    assert.equal(withFile.body.body.file.size, BODY_LIMIT * 4);
    const me = await api.call(erin, 'GET', '/api/v1/accounts/verify_credentials');
    assert.notEqual(me.body.display_name, 'Together');
  });

  test('malformed bodies are 400 with a JSON error, and change nothing', async () => {
    const frank = await createTestUser(api.ctx);
    const auth = { authorization: `Bearer ${frank.token}` };
    const good = multipart(fields([['display_name', 'Malformed']]));
    const cases: { payload: Buffer | string; contentType: string }[] = [
      // No boundary at all.
      { payload: good.payload, contentType: 'multipart/form-data' },
      // Another boundary than the body's.
      { payload: good.payload, contentType: 'multipart/form-data; boundary=nothere' },
      // Truncated: the closing boundary is missing.
      { payload: good.payload.subarray(0, good.payload.length - 10), contentType: good.contentType },
      // A part without headers' end.
      {
        payload: `--b\r\nContent-Disposition: form-data; name="x"\r\nx`,
        contentType: 'multipart/form-data; boundary=b',
      },
    ];
    for (const { payload, contentType } of cases) {
      const response = await api.inject({
        method: 'PATCH',
        url: '/api/v1/accounts/update_credentials',
        payload,
        headers: { ...auth, 'content-type': contentType },
      });
      assert.equal(response.statusCode, 400, `${contentType}: ${response.body}`);
      assert.match(response.json().error, /multipart/i);
    }
    const me = await api.call(frank, 'GET', '/api/v1/accounts/verify_credentials');
    assert.notEqual(me.body.display_name, 'Malformed');
    // An empty multipart body is an empty form.
    const empty = await api.inject({
      method: 'POST',
      url: '/test/echo',
      payload: '',
      headers: { 'content-type': 'multipart/form-data; boundary=b' },
    });
    assert.equal(empty.statusCode, 200);
    assert.deepEqual(empty.json(), { body: {} });
  });

  test('an image part over 16 MiB is refused with 413 as soon as the limit is crossed', async () => {
    const dir = await uploads();
    const boundary = 'oversizeboundary';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\nbig\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="huge.png"\r\nContent-Type: image/png\r\n\r\n`,
    );
    const declared = head.length + 17 * 1_048_576 + `\r\n--${boundary}--\r\n`.length;
    const request = rawRequest(
      `POST /test/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
        `Content-Length: ${declared}\r\n\r\n`,
    );
    await write(request.socket, head);
    // A little over the limit, then nothing more: the answer must not wait for the rest of the body.
    const chunk = Buffer.alloc(1_048_576, 7);
    for (let sent = 0; sent < MEDIA_LIMITS.imageSizeLimit; sent += chunk.length)
      await write(request.socket, chunk);
    await write(request.socket, Buffer.alloc(65_536, 7));
    const response = parseResponse(await request.response);
    assert.equal(response.status, 413);
    assert.deepEqual(response.body, {
      error: `file is too large: an image may be at most 16 MiB (${MEDIA_LIMITS.imageSizeLimit} bytes)`,
    });
    assert.equal(response.headers.connection, 'close');
    await request.closed; // the server does not wait for the rest on this connection
    await waitFor(() => uploadsEmpty(dir), 'the upload directory to empty');
  });

  test('a part that is not an image may be larger than 16 MiB', async () => {
    const big = Buffer.alloc(MEDIA_LIMITS.imageSizeLimit + 1024, 1);
    const response = await send('POST', '/test/echo', [
      { name: 'file', file: big, filename: 'v.mp4', type: 'video/mp4' },
    ]);
    assert.equal(response.status, 200);
    assert.equal(response.body.body.file.size, big.length);
    const asImage = await send('POST', '/test/echo', [
      { name: 'media[0][file]', file: big, filename: 'i.gif', type: 'image/gif' },
    ]);
    assert.equal(asImage.status, 413);
    assert.match(asImage.body.error, /^media\[0\]\[file\] is too large/);
    const dir = await uploads();
    await waitFor(() => uploadsEmpty(dir), 'the upload directory to empty');
  });

  test('a client that goes away mid-upload leaves no temporary file', async () => {
    const dir = await uploads();
    const boundary = 'abortboundary';
    const request = rawRequest(
      `POST /test/echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
        `Content-Length: ${10 * 1_048_576}\r\n\r\n`,
    );
    await write(
      request.socket,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="part.bin"\r\nContent-Type: video/mp4\r\n\r\n`,
    );
    await write(request.socket, Buffer.alloc(1_048_576, 3));
    await waitFor(() => !uploadsEmpty(dir), 'the upload to start');
    request.socket.destroy();
    await waitFor(() => uploadsEmpty(dir), 'the upload directory to empty');
  });

  test('a client that goes away while the handler runs leaves no temporary file', async () => {
    const dir = await uploads();
    const { payload, contentType } = multipart([
      { name: 'file', file: randomBytes(4096), filename: 'w.bin' },
    ]);
    const finishedBefore = handlerFinished;
    const request = rawRequest(
      `POST /test/wait HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${contentType}\r\nContent-Length: ${payload.length}\r\n\r\n`,
    );
    await write(request.socket, payload);
    await waitFor(() => held.length === 1, 'the handler to run');
    assert.equal(readdirSync(dir).length, 1);
    request.socket.destroy();
    await waitFor(() => uploadsEmpty(dir), 'the upload directory to empty');
    held.shift()!.release();
    await waitFor(() => handlerFinished === finishedBefore + 1, 'the handler to finish');
  });

  test("a server's upload directory goes when the server closes", async () => {
    const other = await buildTestServer(api.ctx, { routes: testRoutes });
    const { payload, contentType } = multipart([{ name: 'file', file: Buffer.from('bye'), filename: 'b' }]);
    const response = await other.inject({
      method: 'POST',
      url: '/test/echo',
      payload,
      headers: { 'content-type': contentType },
    });
    const dir = dirname(response.json().body.file.path);
    assert.notEqual(dir, await uploads());
    assert.ok(existsSync(dir));
    await other.close();
    assert.equal(existsSync(dir), false);
  });
});
