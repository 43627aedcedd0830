/** The whole schema, one module per area; drizzle-kit generates migrations from it. */
export * from './accounts.ts';
export * from './jobs.ts';
export * from './media.ts';
export * from './notifications.ts';
export * from './oauth.ts';
export * from './relationships.ts';
export * from './server.ts';
export * from './settings.ts';
export * from './statuses.ts';
