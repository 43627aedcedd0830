import type { FastifyInstance, FastifyReply } from 'fastify';
import { serializeAccount } from '../../convert/to-api/account.ts';
import {
  serializeInstance,
  serializeInstanceDocument,
  serializeInstanceV1,
} from '../../convert/to-api/instance.ts';
import { lookupAccount } from '../../domain/accounts/views.ts';
import type { Context } from '../../domain/context.ts';
import { getExtendedDescription, getInstance, getPrivacyPolicy } from '../../domain/instance/instance.ts';
import { ISO_639_1 } from '../../domain/instance/languages.ts';

/** Mastodon caches these publicly for 3 minutes, even for signed-in clients. */
const publicCache = (reply: FastifyReply) => reply.header('cache-control', 'public, max-age=180');

/** `deprecate_api '2022-11-14'` on the v1 instance endpoint: RFC 9745 `Deprecation: @<unix time>`. */
const V1_DEPRECATION = `@${Date.UTC(2022, 10, 14) / 1000}`;

/**
 * Server information (mastodon.md §1.9). Endpoints with no honest data yet are absent (404) rather
 * than faked: peers, activity, rules, domain_blocks, terms_of_service.
 */
export function instanceRoutes(app: FastifyInstance, ctx: Context): void {
  app.get('/api/v2/instance', async (_request, reply) => {
    publicCache(reply);
    const instance = await getInstance(ctx);
    return serializeInstance(instance, ctx, await contactAccount(ctx, instance.contactUsername));
  });

  app.get('/api/v1/instance', async (_request, reply) => {
    publicCache(reply).header('deprecation', V1_DEPRECATION);
    const instance = await getInstance(ctx);
    return serializeInstanceV1(instance, ctx, await contactAccount(ctx, instance.contactUsername));
  });

  app.get('/api/v1/instance/extended_description', async (_request, reply) => {
    publicCache(reply);
    return serializeInstanceDocument(await getExtendedDescription(ctx));
  });

  app.get('/api/v1/instance/privacy_policy', async (_request, reply) => {
    publicCache(reply);
    return serializeInstanceDocument(await getPrivacyPolicy(ctx));
  });

  app.get('/api/v1/instance/languages', async (_request, reply) => {
    publicCache(reply);
    return ISO_639_1.map(([code, name]) => ({ code, name }));
  });

  // Translation is not available: Mastodon answers an empty map then.
  app.get('/api/v1/instance/translation_languages', async (_request, reply) => {
    publicCache(reply);
    return {};
  });
}

/** The admin-chosen contact (setting site_contact_username), as an Account entity, or null. */
async function contactAccount(
  ctx: Context,
  username: string,
): Promise<ReturnType<typeof serializeAccount> | null> {
  if (username === '') return null;
  const view = await lookupAccount(ctx, username);
  return view === undefined ? null : serializeAccount(view, ctx.config);
}
