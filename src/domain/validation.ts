/**
 * Validation failures as Mastodon reports them (ValidationErrorFormatter over ActiveModel errors):
 *
 *   422 {"error": "Validation failed: Username has already been taken, Password can't be blank",
 *        "details": {"username": [{"error": "ERR_TAKEN", "description": "has already been taken"}], …}}
 *
 * Domain functions collect every problem of an input before refusing it (clients show them all at
 * once, next to their fields), then throw one ValidationError: an `unprocessable` DomainError whose
 * `details` are also its body's extra member, so src/http/errors.ts answers it as any other 422.
 */
import { DomainError } from './errors.ts';

/** The error codes clients know (ERR_ + ActiveModel's error type, upper-cased). */
export type ValidationCode =
  | 'ERR_BLOCKED'
  | 'ERR_UNREACHABLE'
  | 'ERR_TAKEN'
  | 'ERR_RESERVED'
  | 'ERR_ACCEPTED'
  | 'ERR_BLANK'
  | 'ERR_INVALID'
  | 'ERR_TOO_LONG'
  | 'ERR_TOO_SHORT'
  | 'ERR_INCLUSION';

export interface ValidationDetail {
  error: ValidationCode;
  description: string;
}

/** Rails' default texts for the codes that carry no model-specific wording. */
export const DEFAULT_DESCRIPTIONS: Record<ValidationCode, string> = {
  ERR_BLOCKED: 'uses a disallowed e-mail provider',
  ERR_UNREACHABLE: 'does not seem to exist',
  ERR_TAKEN: 'has already been taken',
  ERR_RESERVED: 'is reserved',
  ERR_ACCEPTED: 'must be accepted',
  ERR_BLANK: "can't be blank",
  ERR_INVALID: 'is invalid',
  ERR_TOO_LONG: 'is too long',
  ERR_TOO_SHORT: 'is too short',
  ERR_INCLUSION: 'is not included in the list',
};

export const tooLong = (max: number, unit = 'characters') => `is too long (maximum is ${max} ${unit})`;
export const tooShort = (min: number, unit = 'characters') => `is too short (minimum is ${min} ${unit})`;

interface Entry {
  field: string;
  label: string;
  detail: ValidationDetail;
}

/** Collects errors per field, in the order they were found. */
export class Validator {
  private readonly entries: Entry[] = [];

  /** `label` is the field's human name in the summary ("E-mail address"), as Rails' full messages. */
  add(field: string, label: string, error: ValidationCode, description = DEFAULT_DESCRIPTIONS[error]): this {
    this.entries.push({ field, label, detail: { error, description } });
    return this;
  }

  has(field: string): boolean {
    return this.entries.some((e) => e.field === field);
  }

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Throws the collected errors, if any. */
  check(): void {
    if (this.entries.length > 0) throw new ValidationError(this.entries);
  }
}

export class ValidationError extends DomainError {
  readonly details: Record<string, ValidationDetail[]>;

  constructor(entries: readonly Entry[]) {
    const details: Record<string, ValidationDetail[]> = {};
    for (const entry of entries) {
      const list = details[entry.field] ?? [];
      list.push(entry.detail);
      details[entry.field] = list;
    }
    super(
      'unprocessable',
      `Validation failed: ${entries.map((e) => `${e.label} ${e.detail.description}`).join(', ')}`,
      { details },
    );
    // Still read by the scheduled-status publisher (src/domain/statuses/create.ts) until the statuses split lands.
    this.name = 'ValidationError';
    this.details = details;
  }

  /** A single-field error, for the common case. */
  static of(field: string, label: string, error: ValidationCode, description?: string): ValidationError {
    return new ValidationError([
      { field, label, detail: { error, description: description ?? DEFAULT_DESCRIPTIONS[error] } },
    ]);
  }
}

/**
 * Rails' boolean casting (ActiveModel::Type::Boolean), which Mastodon applies to every boolean
 * parameter: `false`, `0` and the strings "0", "f", "F", "false", "FALSE", "off", "OFF" are false;
 * "" is no value; any other string, number or `true` is true. Other values (lists, objects) are no
 * value. The one copy: the API, the pages and streaming all read booleans with it.
 */
export function castBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value !== 'string' || value === '') return undefined;
  return !RAILS_FALSE_STRINGS.has(value);
}

const RAILS_FALSE_STRINGS: ReadonlySet<string> = new Set(['0', 'f', 'F', 'false', 'FALSE', 'off', 'OFF']);

/** One field refused on its own (when there is nothing else to collect first). */
export function invalidField(
  field: string,
  label: string,
  description: string,
  error: ValidationCode = 'ERR_INVALID',
): ValidationError {
  return new ValidationError([{ field, label, detail: { error, description } }]);
}
