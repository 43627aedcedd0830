import type { FastifyRequest } from 'fastify';
import type { Context } from '../domain/context.ts';
import { ValidationError } from '../domain/validation.ts';
import { html, type SafeHtml } from './layout.ts';

/**
 * Form building blocks shared by the pages: labelled inputs whose error and hint are tied to them
 * with aria-describedby (screen readers read them with the field), and the form body as a flat
 * record of strings.
 */
export type FieldErrors = Record<string, string>;

export interface FieldOptions {
  /** The input's name attribute (Rails-style, e.g. `user[email]`). */
  name: string;
  /** The id, also the key in FieldErrors. */
  id: string;
  label: string;
  type?: 'text' | 'email' | 'password';
  value?: string;
  autocomplete?: string;
  required?: boolean;
  hint?: string;
  error?: string | undefined;
  inputmode?: 'numeric' | 'text';
  autofocus?: boolean;
}

export function field(options: FieldOptions): SafeHtml {
  const hintId = `${options.id}_hint`;
  const errorId = `${options.id}_error`;
  const describedBy = [options.error ? errorId : '', options.hint ? hintId : ''].filter(Boolean).join(' ');
  return html`<label for="${options.id}">${options.label}</label>
<input type="${options.type ?? 'text'}" id="${options.id}" name="${options.name}"${
    options.type !== 'password' && options.value !== undefined ? html` value="${options.value}"` : ''
  }${options.autocomplete ? html` autocomplete="${options.autocomplete}"` : ''}${
    options.required ? html` required` : ''
  }${options.inputmode ? html` inputmode="${options.inputmode}"` : ''}${options.autofocus ? html` autofocus` : ''}${
    options.error ? html` aria-invalid="true"` : ''
  }${describedBy ? html` aria-describedby="${describedBy}"` : ''}>
${options.error ? html`<p class="error" id="${errorId}">${options.error}</p>` : ''}${
  options.hint ? html`<p class="hint" id="${hintId}">${options.hint}</p>` : ''
}`;
}

/** A message at the top of a form (role=alert: announced when the page shows it). */
export function alert(message: string | undefined): SafeHtml | '' {
  return message ? html`<p class="alert" role="alert">${message}</p>` : '';
}

export function notice(message: string | undefined): SafeHtml | '' {
  return message ? html`<p class="notice" role="status">${message}</p>` : '';
}

/** A form parameter as a string ('' when absent); `user[email]` is read as path ['user', 'email']. */
export function param(body: unknown, ...path: string[]): string {
  let value: unknown = body;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return '';
    value = (value as Record<string, unknown>)[key];
  }
  return typeof value === 'string' ? value : '';
}

/** A ValidationError's details as one message per field ("is too short (minimum is 8 characters)"). */
export function fieldErrors(error: ValidationError, labels: Record<string, string> = {}): FieldErrors {
  const out: FieldErrors = {};
  for (const [name, details] of Object.entries(error.details)) {
    const text = details.map((d) => d.description).join(', ');
    out[name] = labels[name] ? `${labels[name]} ${text}` : text;
  }
  return out;
}

export { ValidationError };

/**
 * Fixed-window rate limit on the shared cache (Redis in the scaled shape): true while the key has
 * had at most `limit` hits in the window. Every call counts as a hit.
 */
export async function withinRateLimit(
  ctx: Context,
  key: string,
  limit: number,
  windowSeconds: number,
): Promise<{ ok: boolean; retryAfter: number }> {
  const counter = await ctx.cache.incr(`rate:${key}`, windowSeconds);
  return { ok: counter.count <= limit, retryAfter: counter.ttlSeconds };
}

export const RATE_LIMITED = 'Too many authentication attempts, try again later.';

export function clientIp(request: FastifyRequest): string {
  return request.ip;
}
