import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { isIso6391 } from '../../src/domain/instance/languages.ts';

/**
 * Response shapes checked against Mastodon's entity schemas (DESIGN.md §6), from the OpenAPI 3.1
 * description in ../shared/reference. When that directory is absent (a checkout without shared/),
 * `schemaSkipReason` says so and tests skip their shape assertions with `t.skip(schemaSkipReason)`.
 */
const FILE = new URL('../../../shared/reference/mastodon-openapi.json', import.meta.url);
const BASE_ID = 'https://woolly.invalid/mastodon-openapi.json';

export const schemaSkipReason: string | undefined = existsSync(FILE)
  ? undefined
  : `${fileURLToPath(FILE)} is absent: response shapes are not checked against Mastodon's schemas`;

/**
 * Deliberate differences from the schemas, each with its reason. An error is ignored only when the
 * schema, the path in the value and the failing keyword all match.
 */
const ALLOWED: { schema: string; path: RegExp; keyword: string; why: string }[] = [
  // Mastodon sends the contact email as set, `""` when the admin has not set one.
  {
    schema: 'Instance',
    path: /^\/contact\/email$/,
    keyword: 'format',
    why: 'empty contact email, as Mastodon sends it',
  },
  {
    schema: 'V1Instance',
    path: /^\/email$/,
    keyword: 'format',
    why: 'empty contact email, as Mastodon sends it',
  },
  // Mastodon sends `updated_at: null` while the text was never written.
  {
    schema: 'ExtendedDescription',
    path: /^\/updated_at$/,
    keyword: 'type',
    why: 'null before the text is first written, as Mastodon',
  },
  {
    schema: 'PrivacyPolicy',
    path: /^\/updated_at$/,
    keyword: 'type',
    why: 'null before the policy is first written',
  },
];

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function validator(name: string): ValidateFunction {
  const cached = compiled.get(name);
  if (cached) return cached;
  if (ajv === undefined) {
    const doc = JSON.parse(readFileSync(FILE, 'utf8')) as {
      components: { schemas: Record<string, unknown> };
    };
    // strict off: the schemas carry OpenAPI annotations (example, externalDocs, …) Ajv does not know.
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addFormat('iso-639-1', (value: string) => isIso6391(value));
    ajv.addSchema({ $id: BASE_ID, components: { schemas: doc.components.schemas } });
  }
  const validate = ajv.getSchema(`${BASE_ID}#/components/schemas/${name}`);
  if (validate === undefined) throw new Error(`no schema ${name} in the OpenAPI description`);
  compiled.set(name, validate);
  return validate;
}

function describe(errors: ErrorObject[]): string {
  return errors
    .map((e) => `  ${e.instancePath || '(root)'} ${e.message ?? e.keyword} (${e.schemaPath})`)
    .join('\n');
}

/** Fails with every schema violation listed, minus the allow-listed ones. Needs the OpenAPI file. */
export function assertMatchesSchema(value: unknown, schema: string): void {
  if (schemaSkipReason !== undefined) throw new Error(schemaSkipReason);
  const validate = validator(schema);
  if (validate(value)) return;
  const errors = (validate.errors ?? []).filter(
    (e) =>
      !ALLOWED.some((a) => a.schema === schema && a.keyword === e.keyword && a.path.test(e.instancePath)),
  );
  assert.ok(errors.length === 0, `response does not match the ${schema} schema:\n${describe(errors)}`);
}

let absenceSaid = false;

/**
 * Checks a response against a schema when the OpenAPI description is there; without it the check
 * is skipped and the run says so once (on stderr), as the suites do for ../shared.
 */
export function checkSchema(value: unknown, schema: string): void {
  if (schemaSkipReason === undefined) {
    assertMatchesSchema(value, schema);
    return;
  }
  if (!absenceSaid) {
    absenceSaid = true;
    process.stderr.write(`# ${schemaSkipReason}\n`);
  }
}
