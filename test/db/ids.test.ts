import assert from 'node:assert/strict';
import { it } from 'node:test';
import { idFloor, idTime, isId, newId } from '../../src/db/ids.ts';

it('mints increasing, time-sortable 64-bit ids as decimal strings', () => {
  const ids = Array.from({ length: 5000 }, () => newId());
  for (let i = 1; i < ids.length; i++)
    assert.ok(BigInt(ids[i]!) > BigInt(ids[i - 1]!), `${ids[i]} after ${ids[i - 1]}`);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids.slice(0, 10)) assert.ok(isId(id));
});

it('carries its creation time in the high bits', () => {
  const at = new Date('2026-01-02T03:04:05.678Z');
  const id = newId(at);
  assert.equal(idTime(id).toISOString(), at.toISOString());
  assert.ok(BigInt(idFloor(at)) <= BigInt(id));
  assert.ok(BigInt(idFloor(at.getTime() + 1)) > BigInt(id));
});

it('recognises ids and rejects what is not one', () => {
  for (const bad of [
    '',
    'abc',
    '-1',
    '1.5',
    '99999999999999999999',
    '9223372036854775808',
    1 as unknown as string,
  ]) {
    assert.equal(isId(bad), false, String(bad));
  }
  assert.equal(isId('9223372036854775807'), true);
});
