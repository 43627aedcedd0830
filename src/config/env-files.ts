import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

/**
 * Mastodon reads `.env.production` (and `.env`) from its working directory; so do we, so that an
 * operator's existing file carries over. The process environment always wins over the files, and
 * `.env.production` wins over `.env`.
 */
export const ENV_FILES = ['.env.production', '.env'] as const;

export function readEnvFiles(cwd: string): { values: Record<string, string>; files: string[] } {
  const values: Record<string, string> = {};
  const files: string[] = [];
  // Read in reverse priority so that later assignments override earlier ones.
  for (const name of [...ENV_FILES].reverse()) {
    const path = join(cwd, name);
    if (!existsSync(path)) continue;
    files.unshift(path);
    Object.assign(values, parseEnv(readFileSync(path, 'utf8')));
  }
  return { values, files };
}

/** Parses one `.env`-style document (used for the generated secrets file too). */
export function parseEnvText(text: string): Record<string, string> {
  return parseEnv(text) as Record<string, string>;
}

/** Serialises values in `.env` form, quoting where a value needs it. */
export function formatEnv(values: Record<string, string | undefined>): string {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const needsQuotes = /[\s#"'\\$`]/.test(value) || value === '';
    lines.push(`${key}=${needsQuotes ? JSON.stringify(value) : value}`);
  }
  return `${lines.join('\n')}\n`;
}
