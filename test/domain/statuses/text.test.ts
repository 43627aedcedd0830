import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../../src/config/config.ts';
import type { AccountRecord } from '../../../src/domain/accounts/records.ts';
import {
  countableLength,
  extractEntities,
  hashtagsOf,
  mentionsOf,
  normalizeHashtag,
  renderStatusHtml,
  shortenedLink,
} from '../../../src/domain/statuses/text.ts';

const config = loadConfig({
  env: { LOCAL_DOMAIN: 'woolly.test', WOOLLY_DATA_DIR: '/tmp/woolly-text-test' },
  readFiles: false,
});

const account = (username: string, domain: string | null = null) =>
  ({
    id: '1',
    username,
    domain,
    url: null,
    uri: `https://${domain ?? 'woolly.test'}/users/${username}`,
  }) as AccountRecord;

describe('length', () => {
  test('graphemes, not code units', () => {
    assert.equal(countableLength('👍🏽👨‍👩‍👧', ''), 2);
    assert.equal(countableLength('é', ''), 1);
  });
  test('a URL counts 23 whatever its length; the content warning counts too', () => {
    assert.equal(countableLength(`see https://example.com/${'x'.repeat(100)}`, ''), 4 + 23);
    assert.equal(countableLength('https://a.io', ''), 23);
    assert.equal(countableLength('abc', 'cw'), 5);
  });
  test('a remote mention counts its local part only', () => {
    assert.equal(countableLength('@someone@a.very.long.domain.example', ''), '@someone'.length);
  });
});

describe('entities', () => {
  test('hashtags: after whitespace or at the start, not inside words or links', () => {
    assert.deepEqual(hashtagsOf('#One two#three https://x.io/#four #Five_6 #日本語 #123'), [
      { name: 'one', displayName: 'One' },
      { name: 'five_6', displayName: 'Five_6' },
      { name: '日本語', displayName: '日本語' },
    ]);
  });
  test('hashtag names are normalised with NFKC and lower case', () => {
    assert.equal(normalizeHashtag('ＣＡＦÉ'), 'café');
  });
  test('mentions: local and remote, not e-mail addresses', () => {
    assert.deepEqual(mentionsOf('hi @bob, @Alice@Example.com and mail me@example.com'), [
      { username: 'bob', domain: null },
      { username: 'Alice', domain: 'Example.com' },
    ]);
  });
  test('links lose trailing punctuation but keep balanced parentheses', () => {
    const urls = extractEntities(
      '(see https://en.wikipedia.org/wiki/Foo_(bar)). and https://x.io/a.',
    ).flatMap((e) => (e.kind === 'url' ? [e.url] : []));
    assert.deepEqual(urls, ['https://en.wikipedia.org/wiki/Foo_(bar)', 'https://x.io/a']);
  });
});

describe('HTML', () => {
  test('paragraphs on blank lines, <br /> on newlines, everything escaped', () => {
    assert.equal(
      renderStatusHtml('a\nb\n\n\nc <i>&"\'', config, []),
      '<p>a<br />b</p><p>c &lt;i&gt;&amp;&quot;&#39;</p>',
    );
    assert.equal(renderStatusHtml('  \n', config, []), '');
  });
  test('links are shortened to 30 visible characters with an ellipsis', () => {
    assert.equal(
      shortenedLink('https://www.example.com/'),
      '<a href="https://www.example.com/" target="_blank" rel="nofollow noopener" translate="no"><span class="invisible">https://www.</span><span class="">example.com/</span><span class="invisible"></span></a>',
    );
    // One character past 30 is shown rather than cut.
    assert.match(
      shortenedLink(`https://${'a'.repeat(31)}`),
      /<span class="">a{31}<\/span><span class="invisible"><\/span>/,
    );
    assert.match(
      shortenedLink(`https://${'a'.repeat(35)}`),
      /<span class="ellipsis">a{30}<\/span><span class="invisible">a{5}<\/span>/,
    );
  });
  test('mentions of known accounts become h-cards; unknown and remote ones stay text', () => {
    const html = renderStatusHtml('@bob @bob@woolly.test @eve @bob@elsewhere.example', config, [
      account('bob'),
    ]);
    const card =
      '<span class="h-card" translate="no"><a href="https://woolly.test/@bob" class="u-url mention">@<span>bob</span></a></span>';
    assert.equal(html, `<p>${card} ${card} @eve @bob@elsewhere.example</p>`);
  });
  test('hashtags link to the tag page', () => {
    assert.equal(
      renderStatusHtml('#Tag', config, []),
      '<p><a href="https://woolly.test/tags/Tag" class="mention hashtag" rel="tag">#<span>Tag</span></a></p>',
    );
  });
});
