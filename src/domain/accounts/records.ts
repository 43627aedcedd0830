import type { accounts, oauthApplications, userRoles, users } from '../../db/schema/index.ts';

/** Rows as the domain layer passes them around (Drizzle's inferred types). */
export type AccountRecord = typeof accounts.$inferSelect;
export type UserRecord = typeof users.$inferSelect;
export type RoleRecord = typeof userRoles.$inferSelect;
export type ApplicationRecord = typeof oauthApplications.$inferSelect;
