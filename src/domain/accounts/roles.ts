import { eq, sql } from 'drizzle-orm';
import { userRoles } from '../../db/schema/index.ts';
import type { Context } from '../context.ts';
import type { RoleRecord } from './records.ts';

/**
 * Mastodon's roles (4.5, app/models/user_role.rb): a role's permissions are a bit field; the
 * `everyone` role (id -99) holds what every user may do and is what a user without a role has; the
 * Owner's `administrator` bit grants every permission. The built-in roles are seeded by migration
 * 0002_roles_seed with the ids below (Mastodon's seeds create them in this order: 1, 2, 3).
 */
export const PERMISSION_FLAGS = {
  administrator: 1 << 0,
  view_devops: 1 << 1,
  view_audit_log: 1 << 2,
  view_dashboard: 1 << 3,
  manage_reports: 1 << 4,
  manage_federation: 1 << 5,
  manage_settings: 1 << 6,
  manage_blocks: 1 << 7,
  manage_taxonomies: 1 << 8,
  manage_appeals: 1 << 9,
  manage_users: 1 << 10,
  manage_invites: 1 << 11,
  manage_rules: 1 << 12,
  manage_announcements: 1 << 13,
  manage_custom_emojis: 1 << 14,
  manage_webhooks: 1 << 15,
  invite_users: 1 << 16,
  manage_roles: 1 << 17,
  manage_user_access: 1 << 18,
  delete_user_data: 1 << 19,
  view_feeds: 1 << 20,
} as const;

export type Permission = keyof typeof PERMISSION_FLAGS;

export const ALL_PERMISSIONS: number = Object.values(PERMISSION_FLAGS).reduce((a, b) => a | b, 0);

export function permissionsOf(keys: readonly Permission[]): number {
  return keys.reduce((bits, key) => bits | PERMISSION_FLAGS[key], 0);
}

export const EVERYONE_ROLE_ID = '-99';

/** The built-in roles (config/roles.yml), by the name operators use (`--role Admin`). */
export const BUILT_IN_ROLES = {
  Moderator: {
    id: '1',
    position: 10,
    permissions: permissionsOf([
      'view_dashboard',
      'view_audit_log',
      'view_feeds',
      'manage_users',
      'manage_reports',
      'manage_taxonomies',
    ]),
  },
  Admin: {
    id: '2',
    position: 100,
    permissions: permissionsOf([
      'view_dashboard',
      'view_audit_log',
      'view_feeds',
      'manage_users',
      'manage_user_access',
      'delete_user_data',
      'manage_reports',
      'manage_taxonomies',
      'manage_federation',
      'manage_settings',
      'manage_blocks',
      'manage_appeals',
      'manage_rules',
      'manage_invites',
      'manage_announcements',
      'manage_custom_emojis',
      'manage_webhooks',
      'manage_roles',
    ]),
  },
  Owner: { id: '3', position: 1000, permissions: PERMISSION_FLAGS.administrator },
} as const;

export const EVERYONE_PERMISSIONS = PERMISSION_FLAGS.invite_users;

/** What a role may do: its own bits plus everyone's; all of them for an administrator. */
export function computedPermissions(role: RoleRecord, everyone: RoleRecord | undefined): number {
  if (role.id === EVERYONE_ROLE_ID) return role.permissions;
  if ((role.permissions & PERMISSION_FLAGS.administrator) !== 0) return ALL_PERMISSIONS;
  return role.permissions | (everyone?.permissions ?? EVERYONE_PERMISSIONS);
}

export function roleCan(permissions: number, ...anyOf: Permission[]): boolean {
  return anyOf.some((p) => (permissions & PERMISSION_FLAGS[p]) === PERMISSION_FLAGS[p]);
}

/** A role with what it computes to, as the Role entity shows it. */
export interface ResolvedRole {
  role: RoleRecord;
  permissions: number;
}

/**
 * The roles, read once per process and refreshed every minute: the Account entity shows a local
 * user's highlighted role on every serialization, which should not cost a query each time.
 */
const CACHE_MS = 60_000;
const cache = new WeakMap<object, { at: number; roles: Promise<Map<string, RoleRecord>> }>();

export function allRoles(ctx: Pick<Context, 'database'>): Promise<Map<string, RoleRecord>> {
  const hit = cache.get(ctx.database);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.roles;
  const roles = ctx.database.db
    .select()
    .from(userRoles)
    .then((rows) => new Map(rows.map((r) => [r.id, r])));
  roles.catch(() => cache.delete(ctx.database));
  cache.set(ctx.database, { at: Date.now(), roles });
  return roles;
}

export function invalidateRoles(ctx: Pick<Context, 'database'>): void {
  cache.delete(ctx.database);
}

/** The role a user acts with: theirs, or everyone's. */
export async function userRole(ctx: Pick<Context, 'database'>, roleId: string | null): Promise<ResolvedRole> {
  const roles = await allRoles(ctx);
  const everyone = roles.get(EVERYONE_ROLE_ID) ?? everyoneFallback();
  const role = (roleId !== null ? roles.get(roleId) : undefined) ?? everyone;
  return { role, permissions: computedPermissions(role, everyone) };
}

/** The highlighted role shown on a local account's profile, if any. */
export async function highlightedRole(
  ctx: Pick<Context, 'database'>,
  roleId: string | null,
): Promise<RoleRecord | undefined> {
  if (roleId === null) return undefined;
  return highlightedIn(await allRoles(ctx), roleId);
}

/** The same from roles already loaded (allRoles), for many accounts at once. */
export function highlightedIn(roles: Map<string, RoleRecord>, roleId: string | null): RoleRecord | undefined {
  if (roleId === null) return undefined;
  const role = roles.get(roleId);
  return role?.highlighted && role.id !== EVERYONE_ROLE_ID ? role : undefined;
}

/** Finds a role by name without regard to case (`--role admin`); the everyone role has no name. */
export async function findRoleByName(
  ctx: Pick<Context, 'database'>,
  name: string,
): Promise<RoleRecord | undefined> {
  if (name.trim() === '') return undefined;
  const [row] = await ctx.database.db
    .select()
    .from(userRoles)
    .where(sql`lower(${userRoles.name}) = ${name.trim().toLowerCase()}`)
    .limit(1);
  return row && row.id !== EVERYONE_ROLE_ID ? row : undefined;
}

export async function findRole(ctx: Pick<Context, 'database'>, id: string): Promise<RoleRecord | undefined> {
  const [row] = await ctx.database.db.select().from(userRoles).where(eq(userRoles.id, id)).limit(1);
  return row;
}

/** Should the seed ever be missing (a hand-edited database), users still get Mastodon's default. */
function everyoneFallback(): RoleRecord {
  const epoch = new Date(0);
  return {
    id: EVERYONE_ROLE_ID,
    name: '',
    color: '',
    permissions: EVERYONE_PERMISSIONS,
    position: -1,
    highlighted: false,
    createdAt: epoch,
    updatedAt: epoch,
  };
}
