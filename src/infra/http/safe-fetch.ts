import { lookup as dnsLookup } from 'node:dns';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Outbound GETs to addresses that remote content names (remote media now, federation later),
 * guarded against server-side request forgery: a name that resolves to a private, loopback,
 * link-local or otherwise internal address is refused, checked at connect time on the address
 * actually used (so DNS rebinding cannot slip past), and again on every redirect. The operator may
 * allow some private ranges (ALLOWED_PRIVATE_ADDRESSES), as Mastodon allows.
 */

export interface SafeFetchOptions {
  /** Bytes: a body beyond this is cut off and refused (also when Content-Length says so first). */
  maxBytes: number;
  timeoutMs: number;
  /** IPs or CIDRs that may be reached although private. */
  allowedPrivateAddresses: readonly string[];
  userAgent: string;
  accept?: string;
  maxRedirects?: number;
}

/** Why a fetch failed; `permanent` ones are not worth retrying (4xx, refused address, too large). */
export class SafeFetchError extends Error {
  readonly permanent: boolean;
  constructor(message: string, permanent: boolean) {
    super(message);
    this.name = 'SafeFetchError';
    this.permanent = permanent;
  }
}

const INTERNAL = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  INTERNAL.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  INTERNAL.addSubnet(net, bits, 'ipv6');

function allowList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [ip, bits] = entry.split('/');
    if (ip === undefined) continue;
    const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip, family);
    else list.addSubnet(ip, Number(bits), family);
  }
  return list;
}

/** Whether `address` is internal and not allowed by the operator. */
export function isForbiddenAddress(address: string, allowed: readonly string[] = []): boolean {
  // An IPv4-mapped IPv6 address is judged as the IPv4 address it is (BlockList matches IPv4
  // addresses against IPv6 rules as mapped ones, so the mapped range cannot be a rule itself).
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return isForbiddenAddress(mapped, allowed);
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (!INTERNAL.check(address, family)) return false;
  return !allowList(allowed).check(address, family);
}

/** A lookup that answers only with addresses the guard accepts. */
function guardedLookup(allowed: readonly string[]): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const list = (addresses as { address: string; family: number }[]).filter(
        (a) => !isForbiddenAddress(a.address, allowed),
      );
      const first = list[0];
      if (first === undefined) {
        callback(new SafeFetchError(`${hostname} resolves to an internal address`, true), '', 0);
        return;
      }
      if ((options as { all?: boolean }).all)
        (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      else callback(null, first.address, first.family);
    });
  };
}

/**
 * GETs `url` into the file `dest`; the response's Content-Type and size. The file is removed when
 * anything goes wrong.
 */
export async function downloadToFile(
  url: string,
  dest: string,
  options: SafeFetchOptions,
): Promise<{ contentType: string | undefined; size: number; url: string }> {
  let current = url;
  for (let hop = 0; hop <= (options.maxRedirects ?? 5); hop++) {
    const response = await request(current, options);
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume();
      current = new URL(response.headers.location, current).toString();
      continue;
    }
    if (status < 200 || status >= 300) {
      response.resume();
      throw new SafeFetchError(
        `${current} answered ${status}`,
        status >= 400 && status < 500 && status !== 429,
      );
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > options.maxBytes) {
      response.destroy();
      throw new SafeFetchError(`${current} is larger than ${options.maxBytes} bytes`, true);
    }
    let size = 0;
    const cap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        if (size > options.maxBytes)
          done(new SafeFetchError(`${current} is larger than ${options.maxBytes} bytes`, true));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(response, cap, createWriteStream(dest));
    } catch (error) {
      await rm(dest, { force: true });
      throw error instanceof SafeFetchError
        ? error
        : new SafeFetchError(`${current}: ${(error as Error).message}`, false);
    }
    const type = response.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    return { contentType: type || undefined, size, url: current };
  }
  throw new SafeFetchError(`${url}: too many redirects`, true);
}

function request(url: string, options: SafeFetchOptions): Promise<http.IncomingMessage> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.reject(new SafeFetchError(`not a URL: ${url}`, true));
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    return Promise.reject(new SafeFetchError(`${url}: only http and https are fetched`, true));
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0 && isForbiddenAddress(host, options.allowedPrivateAddresses))
    return Promise.reject(new SafeFetchError(`${url}: internal address`, true));
  const client = parsed.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(
      parsed,
      {
        lookup: guardedLookup(options.allowedPrivateAddresses),
        headers: { 'User-Agent': options.userAgent, Accept: options.accept ?? '*/*' },
        timeout: options.timeoutMs,
      },
      resolve,
    );
    req.on('timeout', () => req.destroy(new SafeFetchError(`${url}: timed out`, false)));
    req.on('error', (error) =>
      reject(error instanceof SafeFetchError ? error : new SafeFetchError(`${url}: ${error.message}`, false)),
    );
  });
}
