-- Mastodon's built-in roles (config/roles.yml and UserRole.everyone), with fixed ids so code and
-- the CLI can name them. Permissions are UserRole::FLAGS bit fields (src/domain/accounts/roles.ts
-- computes the same numbers; a test checks they agree). The everyone role (-99) holds what every
-- user may do (invite_users); a user without a role has it.
INSERT INTO "user_roles" ("id", "name", "color", "permissions", "position", "highlighted") VALUES
	(-99, '', '', 65536, -1, false),
	(1, 'Moderator', '', 1049884, 10, true),
	(2, 'Admin', '', 2031612, 100, true),
	(3, 'Owner', '', 1, 1000, true)
ON CONFLICT ("id") DO NOTHING;
