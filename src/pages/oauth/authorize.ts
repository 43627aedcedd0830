import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AccountRecord } from '../../domain/accounts/records.ts';
import type { WebSessionRecord } from '../../domain/auth/sessions.ts';
import type { Context } from '../../domain/context.ts';
import { OOB_REDIRECT_URI } from '../../domain/oauth/applications.ts';
import {
  type AuthorizationParams,
  hasMatchingToken,
  type PreAuthorization,
  preAuthorize,
  redirectWith,
} from '../../domain/oauth/authorization.ts';
import { OAUTH_ERROR_DESCRIPTIONS, type OAuthError } from '../../domain/oauth/errors.ts';
import { createAuthorizationGrant } from '../../domain/oauth/grants.ts';
import { getSettings } from '../../domain/settings/settings.ts';
import { castBoolean } from '../../domain/validation.ts';
import { csrfField, verifyCsrf } from '../csrf.ts';
import { html, type SafeHtml, sendPage } from '../layout.ts';
import { requireWebUser } from '../session.ts';
import { scopeDescription } from './scopes.ts';

/**
 * `/oauth/authorize`, the user's side of the authorization-code flow (Doorkeeper's authorizations
 * controller as Mastodon customises it):
 * - GET: no session → the sign-in page, coming back here; signed in → the consent page, or straight
 *   back to the app when the user already holds a token of this app with these scopes (unless
 *   `force_login` is given: then the page is shown, so the user sees which account is signed in);
 * - POST (Authorize or Deny button, CSRF-checked) → redirect to the app with `code` (or
 *   `error=access_denied`); the out-of-band URI gets a page showing the code instead;
 * - DELETE → deny, for parity with Mastodon's form.
 * A bad client_id or an unregistered redirect URI is shown as an error page: nothing is ever sent
 * to a redirect URI the app did not register.
 */

/** Locales the pages are written in. Only English so far: `lang` never claims a language the text is not in. */
const PAGE_LOCALES = ['en'];

function pageLang(ctx: Context, requested: unknown): string {
  if (typeof requested === 'string' && PAGE_LOCALES.includes(requested)) return requested;
  const fallback = ctx.config.defaultLocale;
  return PAGE_LOCALES.includes(fallback) ? fallback : 'en';
}

/** The authorization parameters, from the query (GET) or the form (POST/DELETE). */
function authParams(source: unknown): AuthorizationParams & { lang?: unknown; force_login?: unknown } {
  return source !== null && typeof source === 'object' ? (source as Record<string, unknown>) : {};
}

/** Mastodon's truthy_param?: Rails' boolean casting. */
const truthy = (value: unknown): boolean => castBoolean(value) === true;

/** The CSP source that lets the browser follow the post-consent redirect to the app. */
function formActionFor(redirectUri: string): string[] {
  if (redirectUri === OOB_REDIRECT_URI) return [];
  try {
    const url = new URL(redirectUri);
    if (url.protocol === 'http:' || url.protocol === 'https:') return [url.origin];
    return [url.protocol];
  } catch {
    return [];
  }
}

function errorPage(reply: FastifyReply, lang: string, siteTitle: string, error: OAuthError): FastifyReply {
  return sendPage(reply, {
    title: 'An error has occurred',
    lang,
    siteTitle,
    status: 400,
    body: html`<p class="alert" role="alert">${error.description}</p>
<p class="hint">Error code: <code>${error.code}</code>. Go back to the application and try again.</p>`,
  });
}

function sendRedirect(reply: FastifyReply, location: string, status: 302 | 303): FastifyReply {
  reply.header('cache-control', 'no-store');
  return reply.redirect(location, status);
}

function hidden(name: string, value: string | null): SafeHtml {
  return value === null ? html`` : html`<input type="hidden" name="${name}" value="${value}">`;
}

function consentPage(
  reply: FastifyReply,
  input: {
    pre: PreAuthorization;
    session: WebSessionRecord;
    account: AccountRecord;
    lang: string;
    siteTitle: string;
    domain: string;
  },
): FastifyReply {
  const { pre, session, account, lang } = input;
  const app = pre.application;
  const website = app.website ? safeWebsite(app.website) : null;
  const body = html`<p><strong>${app.name}</strong> would like permission to access your account
<strong>@${account.username}@${input.domain}</strong>.
Only approve this request if you recognize and trust this source.</p>
${website ? html`<p class="hint">Application website: <a href="${website}" rel="noopener noreferrer">${website}</a></p>` : ''}
<h2 id="permissions">Review permissions</h2>
<ul aria-labelledby="permissions">
${pre.scopes.map((scope) => html`<li><code>${scope}</code>: ${scopeDescription(scope)}</li>`)}
</ul>
<form method="post" action="/oauth/authorize">
${csrfField(session)}
${hidden('client_id', app.uid)}
${hidden('redirect_uri', pre.redirectUri)}
${hidden('response_type', pre.responseType)}
${hidden('scope', pre.scopes.join(' '))}
${hidden('state', pre.state)}
${hidden('code_challenge', pre.codeChallenge)}
${hidden('code_challenge_method', pre.codeChallengeMethod)}
${hidden('lang', lang === 'en' ? null : lang)}
<button type="submit" name="decision" value="approve">Authorize</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>
<form method="post" action="/auth/sign_out" class="inline">
${csrfField(session)}
<p class="hint">Not @${account.username}? <button type="submit" class="secondary">Sign out and use another account</button></p>
</form>`;
  return sendPage(reply, {
    title: 'Authorization required',
    lang,
    siteTitle: input.siteTitle,
    body,
    formActions: formActionFor(pre.redirectUri),
  });
}

function safeWebsite(website: string): string | null {
  try {
    const url = new URL(website);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** The page that shows an out-of-band code for the user to copy into the app. */
function oobPage(reply: FastifyReply, code: string, lang: string, siteTitle: string): FastifyReply {
  return sendPage(reply, {
    title: 'Authorization code',
    lang,
    siteTitle,
    body: html`<p>Copy this authorization code and paste it to the application.</p>
<label for="code">Authorization code</label>
<input id="code" type="text" readonly value="${code}" autocomplete="off" spellcheck="false">
<p class="hint">The code is valid for 10 minutes and can be used once.</p>`,
  });
}

export function oauthAuthorizeRoutes(app: FastifyInstance, ctx: Context): void {
  const siteTitle = async () => (await getSettings(ctx)).site_title;

  /** Where a finished (approved or denied) request goes: the app, or the out-of-band page. */
  async function finish(
    reply: FastifyReply,
    pre: PreAuthorization,
    userId: string,
    approved: boolean,
    lang: string,
    status: 302 | 303,
  ): Promise<FastifyReply> {
    if (!approved) {
      const error = 'access_denied';
      if (pre.redirectUri === OOB_REDIRECT_URI) {
        return sendPage(reply, {
          title: 'Authorization denied',
          lang,
          siteTitle: await siteTitle(),
          status: 200,
          body: html`<p>${OAUTH_ERROR_DESCRIPTIONS[error]}</p><p>You can close this page.</p>`,
        });
      }
      return sendRedirect(
        reply,
        redirectWith(pre.redirectUri, {
          error,
          error_description: OAUTH_ERROR_DESCRIPTIONS[error],
          state: pre.state,
        }),
        status,
      );
    }
    const code = await createAuthorizationGrant(ctx, {
      application: pre.application,
      userId,
      redirectUri: pre.redirectUri,
      scopes: pre.scopes,
      codeChallenge: pre.codeChallenge,
      codeChallengeMethod: pre.codeChallengeMethod,
    });
    if (pre.redirectUri === OOB_REDIRECT_URI) return oobPage(reply, code, lang, await siteTitle());
    return sendRedirect(reply, redirectWith(pre.redirectUri, { code, state: pre.state }), status);
  }

  /** Checks the request; answers with the error (page or redirect) and returns null when it is bad. */
  async function check(
    reply: FastifyReply,
    params: AuthorizationParams,
    lang: string,
    status: 302 | 303,
  ): Promise<PreAuthorization | null> {
    const result = await preAuthorize(ctx, params);
    if (result.ok) return result.pre;
    if (result.redirectUri === null) {
      errorPage(reply, lang, await siteTitle(), result.error);
    } else {
      sendRedirect(
        reply,
        redirectWith(result.redirectUri, {
          error: result.error.code,
          error_description: result.error.description,
          state: result.state,
        }),
        status,
      );
    }
    return null;
  }

  app.get('/oauth/authorize', async (request, reply) => {
    const params = authParams(request.query);
    const lang = pageLang(ctx, params.lang);
    // The request is checked before sign-in, so a broken link fails now rather than after a password.
    const pre = await check(reply, params, lang, 302);
    if (pre === null) return reply;
    const signedIn = await requireWebUser(ctx, request, reply);
    if (signedIn === null) return reply;
    if (
      !truthy(params.force_login) &&
      (await hasMatchingToken(ctx, pre.application.id, signedIn.user.id, pre.scopes))
    ) {
      return finish(reply, pre, signedIn.user.id, true, lang, 302);
    }
    return consentPage(reply, {
      pre,
      session: signedIn.session,
      account: signedIn.account,
      lang,
      siteTitle: await siteTitle(),
      domain: ctx.config.localDomain,
    });
  });

  async function decide(request: FastifyRequest, reply: FastifyReply, approve: boolean | null) {
    const params = authParams(request.body ?? request.query);
    const lang = pageLang(ctx, params.lang);
    const signedIn = await requireWebUser(ctx, request, reply);
    if (signedIn === null) return reply;
    // A missing or wrong token throws a PageError: the server answers with a 422 page.
    verifyCsrf(signedIn.session, request.body, request);
    const pre = await check(reply, params, lang, 303);
    if (pre === null) return reply;
    // Our form names its buttons `decision`; Mastodon's deny form posts `_method=delete`.
    const { decision, _method: method } = params as Record<string, unknown>;
    const approved =
      approve ??
      (decision === undefined ? String(method).toLowerCase() !== 'delete' : decision === 'approve');
    return finish(reply, pre, signedIn.user.id, approved, lang, 303);
  }

  app.post('/oauth/authorize', (request, reply) => decide(request, reply, null));
  app.delete('/oauth/authorize', (request, reply) => decide(request, reply, false));
}
