import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_DEPTH, MAX_PARAMS, ParamsError, parseParams, stringList, truthy } from '../../src/api/params.ts';

const parse = (input: string) => JSON.parse(JSON.stringify(parseParams(input, { strict: true })));

test('flat, nested and array parameters, as Rack parses them', () => {
  assert.deepEqual(parse(''), {});
  assert.deepEqual(parse('a=1&b=two+words&c=%C3%A9'), { a: '1', b: 'two words', c: 'é' });
  assert.deepEqual(parse('a=1&a=2'), { a: '2' });
  assert.deepEqual(parse('ids[]=1&ids[]=2'), { ids: ['1', '2'] });
  assert.deepEqual(parse('data[alerts][follow]=true&data[policy]=all'), {
    data: { alerts: { follow: 'true' }, policy: 'all' },
  });
  assert.deepEqual(parse('f[0][name]=a&f[0][value]=b&f[1][name]=c'), {
    f: { '0': { name: 'a', value: 'b' }, '1': { name: 'c' } },
  });
  assert.deepEqual(parse('k[][keyword]=x&k[][whole_word]=1&k[][keyword]=y'), {
    k: [{ keyword: 'x', whole_word: '1' }, { keyword: 'y' }],
  });
  assert.deepEqual(parse('poll[options][]=a&poll[options][]=b&poll[expires_in]=300'), {
    poll: { options: ['a', 'b'], expires_in: '300' },
  });
  assert.deepEqual(parse('flag&empty='), { flag: '', empty: '' });
  assert.deepEqual(parse('a[b=1&c]=2'), { 'a[b': '1', 'c]': '2' });
});

test('prototype keys cannot pollute anything', () => {
  const parsed = parseParams(
    '__proto__[polluted]=1&a[__proto__][polluted]=1&constructor[prototype][polluted]=1',
    { strict: true },
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
  assert.equal(Object.hasOwn(parsed, '__proto__'), false);
});

test('conflicts and limits: errors when strict (bodies), skipped otherwise (query strings)', () => {
  assert.throws(() => parseParams('a=1&a[b]=2', { strict: true }), ParamsError);
  assert.throws(() => parseParams('a[]=1&a[b]=2', { strict: true }), ParamsError);
  assert.deepEqual(parseParams('a=1&a[b]=2'), { a: '1' });

  const deep = `x${'[a]'.repeat(MAX_DEPTH + 1)}=1`;
  assert.throws(() => parseParams(deep, { strict: true }), ParamsError);
  assert.deepEqual(parseParams(deep), {});
  assert.doesNotThrow(() => parseParams(`x${'[a]'.repeat(MAX_DEPTH)}=1`, { strict: true }));

  const many = Array.from({ length: MAX_PARAMS + 1 }, (_, i) => `p${i}=1`).join('&');
  assert.throws(() => parseParams(many, { strict: true }), ParamsError);
  assert.equal(Object.keys(parseParams(many)).length, MAX_PARAMS);
});

test('truthy reads Rails boolean parameters: absent and the false spellings are false', () => {
  for (const value of [undefined, null, '', '0', 'f', 'F', 'false', 'FALSE', 'off', 'OFF', 0, false, []]) {
    assert.equal(truthy(value), false, JSON.stringify(value));
  }
  // Rails' list is exact: other spellings of false are true, as in Mastodon.
  for (const value of ['1', 'true', 't', 'yes', 'anything', 'False', 'Off', 1, true, ['1']]) {
    assert.equal(truthy(value), true, JSON.stringify(value));
  }
});

test('stringList is Array(param) of strings, blank entries dropped unless kept', () => {
  assert.deepEqual(stringList(undefined), []);
  assert.deepEqual(stringList(''), []);
  assert.deepEqual(stringList('a'), ['a']);
  assert.deepEqual(stringList(['a', '', 'b', { c: '1' }]), ['a', 'b']);
  assert.deepEqual(stringList(['a', ''], { keepBlank: true }), ['a', '']);
});
