import { loadConfig, type RedisConfig } from '../../src/config/config.ts';

/**
 * The Redis of the scaled test run (REDIS_URL or REDIS_HOST…), read through the real configuration
 * code; undefined on the embedded run. Only the Redis variables are passed, so the rest of the
 * environment (a DATABASE_URL without LOCAL_DOMAIN, say) cannot make it fail.
 */
export function testRedisConfig(): RedisConfig | undefined {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('REDIS_') && v !== undefined) env[k] = v;
  return loadConfig({ env, readFiles: false }).redis;
}
