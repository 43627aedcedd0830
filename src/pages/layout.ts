import type { FastifyReply } from 'fastify';
import { escapeHtml } from '../domain/text/html.ts';

/**
 * Server-rendered HTML for the few pages Woolly serves itself (sign-in, consent, account settings).
 * Every interpolation into `html` is escaped unless it is already `SafeHtml` (another `html` result or
 * an explicit `raw()`), so user-controlled text cannot become markup. The pages need no JavaScript
 * and load nothing external: one inline stylesheet, allowed by the CSP below.
 */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

/** A trusted fragment, inserted as is. Never pass user input. */
export function raw(fragment: string): SafeHtml {
  return new SafeHtml(fragment);
}

function interpolate(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(interpolate).join('');
  return escapeHtml(String(value));
}

/** Tagged template: `html\`<p>${userText}</p>\`` escapes userText. Arrays are concatenated. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += interpolate(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

export interface PageOptions {
  title: string;
  body: SafeHtml;
  lang?: string;
  /** HTTP status; 200 unless given. */
  status?: number;
  /** Shown above the page's content (the instance's title). */
  siteTitle?: string;
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1f232b;--bg:#f4f5f8;--card:#fff;--muted:#5b6170;--accent:#3c3ad6;--err:#b3261e;--ok:#1e6b35;--border:#c9ccd6}
@media (prefers-color-scheme:dark){:root{--fg:#e8e9ee;--bg:#16171d;--card:#22232b;--muted:#a6a9b6;--accent:#8c8dff;--err:#ff8a80;--ok:#7bd88f;--border:#3a3c48}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
.site{max-width:34rem;margin:1.5rem auto 0;padding:0 1rem;font-weight:600;color:var(--muted)}
main{max-width:34rem;margin:1rem auto 2rem;padding:1.5rem;background:var(--card);border:1px solid var(--border);border-radius:8px}
h1{font-size:1.5rem;margin:0 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
a{color:var(--accent)}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=text],input[type=email],input[type=password],input[type=search]{width:100%;padding:.5rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--border);border-radius:4px}
input:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
button{margin-top:1rem;padding:.5rem 1rem;font:inherit;font-weight:600;color:#fff;background:var(--accent);border:0;border-radius:4px;cursor:pointer}
button.secondary{color:var(--accent);background:transparent;border:1px solid var(--accent)}
form.inline{display:inline}
.hint{color:var(--muted);font-size:.9rem;margin:.25rem 0 0}
.error{color:var(--err);font-weight:600;margin:.25rem 0 0}
.alert{border-left:4px solid var(--err);padding:.5rem .75rem;margin:0 0 1rem}
.notice{border-left:4px solid var(--ok);padding:.5rem .75rem;margin:0 0 1rem}
code,.codes{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.codes{columns:2;list-style:none;padding:0}
.qr svg{width:200px;height:200px;background:#fff;padding:8px}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.4rem;border-bottom:1px solid var(--border);vertical-align:top}
`;

/** A complete, accessible HTML5 document. */
export function renderPage(options: PageOptions): string {
  const lang = options.lang && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(options.lang) ? options.lang : 'en';
  const page = html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.siteTitle ? `${options.title} – ${options.siteTitle}` : options.title}</title>
<style>${raw(STYLE)}</style>
</head>
<body>
${options.siteTitle ? html`<p class="site">${options.siteTitle}</p>` : ''}
<main>
<h1>${options.title}</h1>
${options.body}
</main>
</body>
</html>
`;
  return page.value;
}

export interface SendPageOptions extends PageOptions {
  /** Extra form targets allowed by the CSP (the consent page's redirect URI); 'self' is always allowed. */
  formActions?: readonly string[];
}

/** The Content-Security-Policy of every page: nothing runs, nothing loads, nothing frames it. */
export function pageCsp(formActions: readonly string[] = []): string {
  const actions = ["'self'", ...formActions].join(' ');
  return `default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action ${actions}; frame-ancestors 'none'; base-uri 'none'`;
}

/** Sets the headers every page has (no caching, strict CSP, no referrer) and sends it. */
export function sendPage(reply: FastifyReply, options: SendPageOptions): FastifyReply {
  setPageHeaders(reply, options.formActions);
  return reply
    .code(options.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(renderPage(options));
}

export function setPageHeaders(reply: FastifyReply, formActions?: readonly string[]): void {
  reply.header('cache-control', 'no-store');
  reply.header('content-security-policy', pageCsp(formActions));
  // Reset and confirmation links carry their token in the URL: never leak it to another site.
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
  reply.header('x-content-type-options', 'nosniff');
}

/** A redirect from a page (303 after a form, so the browser follows with GET). */
export function redirectPage(reply: FastifyReply, location: string, status = 303): FastifyReply {
  reply.header('cache-control', 'no-store');
  return reply.code(status).redirect(location, status);
}

/**
 * An error shown as a page rather than JSON: thrown from page handlers (a failed CSRF check, an
 * expired link); the server's error handler renders it.
 */
export class PageError extends Error {
  readonly statusCode: number;
  readonly title: string;
  readonly headers: Record<string, string> | undefined;
  constructor(statusCode: number, title: string, message: string, headers?: Record<string, string>) {
    super(message);
    this.name = 'PageError';
    this.statusCode = statusCode;
    this.title = title;
    this.headers = headers;
  }
}

export function sendPageError(reply: FastifyReply, error: PageError): void {
  if (error.headers) reply.headers(error.headers);
  sendPage(reply, {
    title: error.title,
    status: error.statusCode,
    body: html`<p class="alert" role="alert">${error.message}</p><p><a href="/auth/sign_in">Back to sign-in</a></p>`,
  });
}
