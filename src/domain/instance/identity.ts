import { ConfigError } from '../../config/errors.ts';
import type { Database } from '../../db/database.ts';

/**
 * Records LOCAL_DOMAIN on the first start and refuses a different one afterwards: it is part of
 * every handle and ActivityPub URI already published, so changing it would orphan them all.
 */
export async function checkLocalDomain(
  database: Database,
  localDomain: string,
): Promise<{ firstStart: boolean }> {
  const inserted = await database.query<{ local_domain: string }>(
    'insert into server_identity (local_domain) values ($1) on conflict (singleton) do nothing returning local_domain',
    [localDomain],
  );
  if (inserted.length > 0) return { firstStart: true };
  const [row] = await database.query<{ local_domain: string }>('select local_domain from server_identity');
  if (row !== undefined && row.local_domain !== localDomain) {
    throw new ConfigError(
      `LOCAL_DOMAIN is ${localDomain}, but this database belongs to ${row.local_domain}. The domain is permanent (it is in every account's address and URI); set LOCAL_DOMAIN=${row.local_domain}.`,
      'LOCAL_DOMAIN',
    );
  }
  return { firstStart: false };
}
