import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  accessTokenChannel,
  directChannel,
  hashtagChannel,
  listChannel,
  notificationsChannel,
  PRESENCE_REFRESH_SECONDS,
  PRESENCE_TTL_SECONDS,
  presenceKey,
  publicChannel,
  streamTagName,
  systemChannel,
  userChannel,
} from '../../../src/domain/streaming/channels.ts';

test('streamTagName folds case, width and Latin accents, as Mastodon names tag channels', () => {
  assert.equal(streamTagName('Café'), 'cafe');
  assert.equal(streamTagName('ÉCOLE'), 'ecole');
  assert.equal(streamTagName('Łódź'), 'lodz');
  assert.equal(streamTagName('İstanbul'), 'istanbul');
  assert.equal(streamTagName('Ærø'), 'æro', 'æ has no ASCII letter of its own: kept, as Mastodon');
  assert.equal(streamTagName('Straße'), 'straße');
  // NFKC: full-width letters and the ﬁ ligature become plain letters.
  assert.equal(streamTagName('ＦＵＬＬ'), 'full');
  assert.equal(streamTagName('ﬁsh'), 'fish');
});

test('streamTagName keeps letters, digits, `_`, `·` and ZWNJ and drops the rest', () => {
  assert.equal(streamTagName('l·l'), 'l·l');
  assert.equal(streamTagName('می\u200cخواهم'), 'می\u200cخواهم');
  assert.equal(streamTagName('snake_case_2'), 'snake_case_2');
  assert.equal(streamTagName('東京'), '東京');
  assert.equal(streamTagName('#foo-bar!'), 'foobar');
  assert.equal(streamTagName('a b\u200dc'), 'abc', 'spaces and ZWJ are not tag characters');
});

test('channel names are Mastodon’s', () => {
  assert.equal(userChannel('42'), 'timeline:42');
  assert.equal(notificationsChannel('42'), 'timeline:42:notifications');
  assert.equal(publicChannel('all'), 'timeline:public');
  assert.equal(publicChannel('local'), 'timeline:public:local');
  assert.equal(publicChannel('remote', true), 'timeline:public:remote:media');
  assert.equal(publicChannel('all', true), 'timeline:public:media');
  assert.equal(hashtagChannel('Café'), 'timeline:hashtag:cafe');
  assert.equal(hashtagChannel('Café', true), 'timeline:hashtag:cafe:local');
  assert.equal(listChannel('7'), 'timeline:list:7');
  assert.equal(directChannel('42'), 'timeline:direct:42');
  assert.equal(accessTokenChannel('9'), 'timeline:access_token:9');
  assert.equal(systemChannel('42'), 'timeline:system:42');
  assert.equal(presenceKey(userChannel('42')), 'subscribed:timeline:42');
  assert.equal(PRESENCE_TTL_SECONDS, 18 * 60);
  assert.equal(PRESENCE_REFRESH_SECONDS, 6 * 60);
});
