import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { html, pageCsp, raw, renderPage } from '../../src/pages/layout.ts';
import { safeReturnTo } from '../../src/pages/session.ts';

describe('html', () => {
  test('escapes interpolations, keeps html results and raw fragments, joins arrays', () => {
    const evil = `<img src=x onerror="alert('1')">&`;
    assert.equal(
      html`<p>${evil}</p>`.value,
      '<p>&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;</p>',
    );
    assert.equal(html`<div>${html`<b>${'a<b'}</b>`}</div>`.value, '<div><b>a&lt;b</b></div>');
    assert.equal(html`${raw('<hr>')}`.value, '<hr>');
    assert.equal(
      html`<ul>${['<a>', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.value,
      '<ul><li>&lt;a&gt;</li><li>b</li></ul>',
    );
    assert.equal(html`${null}${undefined}${false}${0}`.value, '0');
  });
});

describe('renderPage', () => {
  test('a complete accessible document; a bad lang falls back to en', () => {
    const page = renderPage({ title: 'T <x>', lang: 'fr-CA', body: html`<p>hi</p>`, siteTitle: 'Site' });
    assert.match(page, /^<!doctype html>\n<html lang="fr-CA">/);
    assert.match(page, /<title>T &lt;x&gt; – Site<\/title>/);
    assert.match(page, /<main>\n<h1>T &lt;x&gt;<\/h1>\n<p>hi<\/p>/);
    assert.match(renderPage({ title: 't', lang: '"><script>', body: html`` }), /<html lang="en">/);
  });

  test('the CSP allows extra form targets', () => {
    assert.match(pageCsp(['https://app.example']), /form-action 'self' https:\/\/app\.example;/);
  });
});

describe('safeReturnTo', () => {
  test('keeps local paths only', () => {
    assert.equal(
      safeReturnTo('/oauth/authorize?client_id=a&redirect_uri=https%3A%2F%2Fx'),
      '/oauth/authorize?client_id=a&redirect_uri=https%3A%2F%2Fx',
    );
    assert.equal(safeReturnTo('/settings'), '/settings');
    for (const bad of [
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      '/\\/evil',
      '/x\ny',
      'settings',
      '',
      undefined,
      42,
      `/${'a'.repeat(3000)}`,
    ]) {
      assert.equal(safeReturnTo(bad), undefined, String(bad));
    }
  });
});
