/**
 * Rails-style (Rack) nested parameters from a query string, an application/x-www-form-urlencoded
 * body or the parts of a multipart/form-data body (src/http/multipart.ts), as Mastodon clients send
 * them:
 *
 *   a=1                      → { a: '1' }
 *   ids[]=1&ids[]=2          → { ids: ['1', '2'] }
 *   data[alerts][follow]=1   → { data: { alerts: { follow: '1' } } }
 *   f[0][name]=x             → { f: { '0': { name: 'x' } } }            (a hash, as in Rails)
 *   k[][a]=1&k[][b]=2&k[][a]=3 → { k: [{ a: '1', b: '2' }, { a: '3' }] } (Rack's array-of-hashes rule)
 *
 * Written here rather than taken from `qs` because clients target Rack's semantics, which differ from
 * qs's (qs turns `f[0]` into arrays and starts a new element at every `k[]`).
 * Limits: at most MAX_PARAMS pairs and MAX_DEPTH levels of nesting; `__proto__` keys are dropped.
 * A multipart file part is an UploadedFile leaf at its nested position (`media[0][file]`).
 */

import type { FastifyRequest } from 'fastify';
import { isUploadedFile, type UploadedFile } from '../domain/media/upload.ts';
import { castBoolean } from '../domain/validation.ts';

export const MAX_PARAMS = 1000;
export const MAX_DEPTH = 8;

export type ParamValue = string | UploadedFile | ParamValue[] | ParamObject;
/** One leaf as it arrives: a text value, or a file part of a multipart body. */
export type ParamLeaf = string | UploadedFile;
export interface ParamObject {
  [key: string]: ParamValue;
}

export class ParamsError extends Error {
  readonly statusCode = 400;
  constructor(message: string) {
    super(message);
    this.name = 'ParamsError';
  }
}

export interface ParseOptions {
  /** Throw ParamsError on conflicting or over-limit input (bodies); otherwise skip what does not fit (query strings). */
  strict?: boolean;
}

const SEGMENTS = /^(\[[^[\]]*\])+$/;

/** Splits `a[b][]` into ['a', 'b', ''], or returns the name whole when it is not bracket-shaped. */
function splitName(name: string): string[] {
  const open = name.indexOf('[');
  if (open <= 0) return [name];
  const rest = name.slice(open);
  if (!SEGMENTS.test(rest)) return [name];
  const keys = [name.slice(0, open)];
  for (const match of rest.matchAll(/\[([^[\]]*)\]/g)) keys.push(match[1] ?? '');
  return keys;
}

function isObject(value: ParamValue | undefined): value is ParamObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isUploadedFile(value);
}

function set(target: ParamObject, key: string, value: ParamValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Rack's normalize_params: puts `value` at `keys` inside `target`; returns false on a type conflict. */
function place(target: ParamObject, keys: string[], value: ParamLeaf): boolean {
  const [key, ...rest] = keys as [string, ...string[]];
  if (key === '__proto__') return true; // dropped
  const existing = Object.hasOwn(target, key) ? target[key] : undefined;
  if (rest.length === 0) {
    set(target, key, value);
    return true;
  }
  const [next, ...after] = rest as [string, ...string[]];
  if (next === '') {
    const list = existing ?? [];
    if (!Array.isArray(list)) return false;
    set(target, key, list);
    if (after.length === 0) {
      list.push(value);
      return true;
    }
    // k[][a]=…: fill the last hash unless it already has this key, else start a new one.
    const last = list[list.length - 1];
    if (isObject(last) && !hasPath(last, after)) {
      return place(last, after, value);
    }
    const fresh: ParamObject = {};
    list.push(fresh);
    return place(fresh, after, value);
  }
  const obj = existing ?? {};
  if (!isObject(obj)) return false;
  set(target, key, obj);
  return place(obj, rest, value);
}

/** Whether the full key path already holds a scalar (Rack's params_hash_has_key?). */
function hasPath(obj: ParamObject, keys: string[]): boolean {
  let current: ParamValue = obj;
  for (const key of keys) {
    if (key === '') return false;
    if (!isObject(current) || !Object.hasOwn(current, key)) return false;
    current = current[key]!;
  }
  return true;
}

export function parseParams(input: string, options: ParseOptions = {}): ParamObject {
  if (input === '') return {};
  return nestParams(new URLSearchParams(input), options);
}

/** The parameter name each uploaded file was sent under, so that errors about it can name it. */
const fileNames = new WeakMap<UploadedFile, string>();

/** Nests (name, value) pairs, in the order sent, by the rules above: the one copy for every body type. */
export function nestParams(
  pairs: Iterable<readonly [string, ParamLeaf]>,
  options: ParseOptions = {},
): ParamObject {
  const result: ParamObject = {};
  let count = 0;
  for (const [name, value] of pairs) {
    if (name === '') continue;
    if (++count > MAX_PARAMS) {
      if (options.strict) throw new ParamsError(`Too many parameters (at most ${MAX_PARAMS})`);
      break;
    }
    const keys = splitName(name);
    if (keys.length > MAX_DEPTH + 1) {
      if (options.strict)
        throw new ParamsError(`Parameter ${name} is nested too deeply (at most ${MAX_DEPTH} levels)`);
      continue;
    }
    if (isUploadedFile(value)) fileNames.set(value, name);
    if (!place(result, keys, value) && options.strict) {
      throw new ParamsError(`Parameter ${name} conflicts with another parameter of the same name`);
    }
  }
  return result;
}

// Reading parsed parameters: the one copy every route uses.

/** Rails' truthy_param?: any present value but the false spellings; a list is true when it holds anything. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  refuseFile(value);
  return castBoolean(value) === true;
}

/** A file part where text is expected is the client's mistake, said as such rather than ignored. */
function refuseFile(value: unknown): void {
  if (isUploadedFile(value)) throw new ParamsError(`${fileNames.get(value) ?? 'A parameter'} must be text`);
}

/**
 * The file of a multipart body under `name` (`fileParam(params, 'file')`), undefined when absent;
 * text or a nested value sent instead is refused, naming the field.
 */
export function fileParam(params: Readonly<Record<string, unknown>>, name: string): UploadedFile | undefined {
  if (!Object.hasOwn(params, name)) return undefined;
  const value = params[name];
  if (value === undefined) return undefined;
  if (isUploadedFile(value)) return value;
  throw new ParamsError(`${name} must be a file (sent as a multipart/form-data file part)`);
}

/**
 * Rails' `Array(param)`: the strings of `x[]=a&x[]=b` or of a single `x=a`, other values dropped.
 * Blank entries are dropped too unless `keepBlank`: a notification `types[]=` names no known type
 * and so matches nothing, as in Mastodon, rather than meaning "no filter".
 */
export function stringList(value: unknown, options: { keepBlank?: boolean } = {}): string[] {
  if (value === undefined || value === null || value === '') return [];
  const items = Array.isArray(value) ? value : [value];
  for (const item of items) refuseFile(item);
  return items.filter((v): v is string => typeof v === 'string' && (options.keepBlank === true || v !== ''));
}

/** The signed-in account reading, or null for an anonymous request (public endpoints). */
export const viewerOf = (request: FastifyRequest): string | null => request.auth?.account?.id ?? null;
