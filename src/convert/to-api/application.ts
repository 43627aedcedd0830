import type { ApplicationRecord } from '../../domain/accounts/records.ts';
import type { Context } from '../../domain/context.ts';
import { applicationRedirectUris, applicationScopes } from '../../domain/oauth/applications.ts';

/** Mastodon's Application entity (REST::ApplicationSerializer, 4.5). */
export function serializeApplication(application: ApplicationRecord, ctx: Pick<Context, 'secrets'>) {
  return {
    id: application.id,
    name: application.name,
    website: application.website || null,
    scopes: applicationScopes(application),
    redirect_uris: applicationRedirectUris(application),
    // Deprecated in Mastodon 4.3 but still read by clients.
    vapid_key: ctx.secrets.VAPID_PUBLIC_KEY,
    redirect_uri: application.redirectUri,
  };
}

/** CredentialApplication: the Application plus its client credentials, given once at registration. */
export function serializeCredentialApplication(
  application: ApplicationRecord,
  clientSecret: string,
  ctx: Pick<Context, 'secrets'>,
) {
  return {
    ...serializeApplication(application, ctx),
    client_id: application.uid,
    client_secret: clientSecret,
    // Apps never expire (Mastodon's forward-compatibility field).
    client_secret_expires_at: 0,
  };
}
