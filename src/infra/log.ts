import pino, { type Logger } from 'pino';
import type { Config } from '../config/config.ts';

/**
 * One pino logger per process, JSON lines on stdout. Credentials never reach the log: request
 * headers that carry them are redacted here, and code logs ids, never tokens or passwords.
 */
export function createLogger(config: Pick<Config, 'logLevel'>, role: string): Logger {
  return pino({
    level: config.logLevel,
    base: { role, pid: process.pid },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["sec-websocket-protocol"]',
        'res.headers["set-cookie"]',
        '*.password',
        '*.access_token',
        '*.client_secret',
      ],
      censor: '[redacted]',
    },
  });
}
