import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * A tiny browser for page tests: keeps the session cookie between requests (as a browser does,
 * honouring Max-Age=0 deletions), posts forms url-encoded, and reads the CSRF token from the last
 * page.
 */
export class Browser {
  readonly app: FastifyInstance;
  cookie: string | undefined;
  lastHtml = '';
  headers: Record<string, string>;

  constructor(app: FastifyInstance, headers: Record<string, string> = {}) {
    this.app = app;
    this.headers = headers;
  }

  private remember(response: LightMyRequestResponse): void {
    const setCookie = response.headers['set-cookie'];
    const lines = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
    for (const line of lines) {
      const [pair] = line.split(';');
      if (!pair?.startsWith('_woolly_session=')) continue;
      const value = pair.slice('_woolly_session='.length);
      this.cookie = value === '' || /max-age=0/i.test(line) ? undefined : value;
    }
    if (String(response.headers['content-type'] ?? '').startsWith('text/html')) this.lastHtml = response.body;
  }

  private cookieHeader(): Record<string, string> {
    return this.cookie ? { cookie: `_woolly_session=${this.cookie}` } : {};
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({
      method: 'GET',
      url,
      headers: { ...this.headers, ...this.cookieHeader() },
    });
    this.remember(response);
    return response;
  }

  /** Posts a form; the CSRF token of the last page is added unless `csrf: false` or the form has one. */
  async post(
    url: string,
    form: Record<string, string>,
    options: { csrf?: boolean; method?: 'POST' | 'PUT' | 'DELETE' } = {},
  ): Promise<LightMyRequestResponse> {
    const fields = { ...form };
    if (options.csrf !== false && fields.authenticity_token === undefined)
      fields.authenticity_token = this.csrf();
    const response = await this.app.inject({
      method: options.method ?? 'POST',
      url,
      headers: {
        ...this.headers,
        ...this.cookieHeader(),
        'content-type': 'application/x-www-form-urlencoded',
      },
      payload: new URLSearchParams(fields).toString(),
    });
    this.remember(response);
    return response;
  }

  csrf(): string {
    const match = /name="authenticity_token" value="([^"]+)"/.exec(this.lastHtml);
    assert.ok(match, 'the last page has a CSRF field');
    return match[1]!;
  }

  /** Signs in through the form; returns the POST's response. */
  async signIn(login: string, password: string, returnTo?: string): Promise<LightMyRequestResponse> {
    await this.get(returnTo ? `/auth/sign_in?return_to=${encodeURIComponent(returnTo)}` : '/auth/sign_in');
    return this.post('/auth/sign_in', {
      'user[email]': login,
      'user[password]': password,
      ...(returnTo ? { return_to: returnTo } : {}),
    });
  }
}
