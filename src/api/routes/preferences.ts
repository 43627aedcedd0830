import type { FastifyInstance } from 'fastify';
import { postingLanguage, userPreferences } from '../../domain/accounts/profile.ts';
import type { Context } from '../../domain/context.ts';
import { currentUser } from '../auth.ts';

/** `GET /api/v1/preferences` (the Preferences entity, REST::PreferencesSerializer). */
export function preferencesRoutes(app: FastifyInstance, ctx: Context): void {
  app.get(
    '/api/v1/preferences',
    { config: { auth: { scopes: ['read', 'read:accounts'], user: true } } },
    async (request) => {
      const { user, account } = currentUser(request);
      const prefs = userPreferences(user, account);
      return {
        'posting:default:visibility': prefs.defaultPrivacy,
        'posting:default:sensitive': prefs.defaultSensitive,
        'posting:default:language': postingLanguage(user, account, ctx.config.defaultLocale),
        'posting:default:quote_policy': prefs.defaultQuotePolicy,
        'reading:expand:media': prefs.displayMedia,
        'reading:expand:spoilers': prefs.expandSpoilers,
        'reading:autoplay:gifs': prefs.autoPlayGifs,
      };
    },
  );
}
