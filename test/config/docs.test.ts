import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { renderConfigDoc } from '../../scripts/config-doc.ts';

it('docs/configuration.md is generated from src/config/variables.ts (run `node scripts/config-doc.ts`)', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  assert.equal(doc, renderConfigDoc());
});
