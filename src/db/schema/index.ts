/** The whole schema, one module per area; drizzle-kit generates migrations from it. */
export * from './jobs.ts';
export * from './server.ts';
export * from './settings.ts';
