import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { invalidateInstanceStats } from '../../src/domain/instance/stats.ts';
import { updateSettings } from '../../src/domain/settings/settings.ts';
import { createTestUser } from '../support/accounts.ts';
import { apiHarness, buildTestServer } from '../support/api.ts';
import { ffmpegAvailable } from '../support/media.ts';
import { assertMatchesSchema, schemaSkipReason } from '../support/openapi.ts';

const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as { version: string };

const api = apiHarness({
  context: {
    env: {
      LOCAL_DOMAIN: 'social.example',
      WEB_DOMAIN: 'web.social.example',
      STREAMING_API_BASE_URL: 'wss://streaming.social.example',
      DEFAULT_LOCALE: 'fr',
    },
  },
});

async function get(url: string) {
  const res = await api.inject({ method: 'GET', url });
  assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  return { res, body: res.json() };
}

/** Resets the settings a test changed, so tests do not depend on their order. */
async function withSettings(change: Record<string, unknown>, fn: () => Promise<void>): Promise<void> {
  await updateSettings(api.ctx, change);
  try {
    await fn();
  } finally {
    await api.ctx.database.query('delete from settings');
    await updateSettings(api.ctx, {}); // drops the cached copy
  }
}

// Mastodon's list, less HEIC/HEIF (nothing here decodes them), and less video and audio when
// ffmpeg is missing: the instance tells what this server really takes.
const ALL_MIME_TYPES = [
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
  'image/avif',
  'video/webm',
  'video/mp4',
  'video/quicktime',
  'video/ogg',
  'audio/wave',
  'audio/wav',
  'audio/x-wav',
  'audio/x-pn-wave',
  'audio/vnd.wave',
  'audio/ogg',
  'audio/vorbis',
  'audio/mpeg',
  'audio/mp3',
  'audio/webm',
  'audio/flac',
  'audio/aac',
  'audio/m4a',
  'audio/x-m4a',
  'audio/mp4',
  'audio/3gpp',
  'video/x-ms-asf',
];
const EXPECTED_MIME_TYPES = ALL_MIME_TYPES.filter((t) => ffmpegAvailable || t.startsWith('image/'));

describe('GET /api/v2/instance', () => {
  test('matches the Instance schema', async (t) => {
    if (schemaSkipReason) return t.skip(schemaSkipReason);
    assertMatchesSchema((await get('/api/v2/instance')).body, 'Instance');
    await withSettings(
      {
        site_contact_email: 'admin@social.example',
        registrations_mode: 'none',
        closed_registrations_message: 'Closed.',
      },
      async () => {
        assertMatchesSchema((await get('/api/v2/instance')).body, 'Instance');
      },
    );
  });

  test('the schema check is not vacuous', async (t) => {
    if (schemaSkipReason) return t.skip(schemaSkipReason);
    const { body } = await get('/api/v2/instance');
    const { configuration: _dropped, ...withoutConfiguration } = body;
    assert.throws(() => assertMatchesSchema(withoutConfiguration, 'Instance'), /configuration/);
    assert.throws(
      () => assertMatchesSchema({ ...body, languages: ['xx-not-a-language'] }, 'Instance'),
      /languages/,
    );
  });

  test('has every field of Mastodon 4.5, with values from config and defaults', async () => {
    const { res, body } = await get('/api/v2/instance');
    assert.equal(res.headers['cache-control'], 'public, max-age=180');
    assert.deepEqual(Object.keys(body).sort(), [
      'api_versions',
      'configuration',
      'contact',
      'description',
      'domain',
      'icon',
      'languages',
      'registrations',
      'rules',
      'source_url',
      'thumbnail',
      'title',
      'usage',
      'version',
    ]);
    assert.equal(body.domain, 'social.example');
    assert.equal(body.title, 'Woolly');
    assert.equal(body.version, `4.5.0 (compatible; Woolly ${pkg.version})`);
    assert.equal(body.source_url, 'https://codeberg.org/woolly/woolly');
    assert.equal(body.description, '');
    assert.deepEqual(body.usage, { users: { active_month: 0 } });
    assert.deepEqual(body.icon, []);
    assert.deepEqual(body.languages, ['fr']);
    assert.deepEqual(body.api_versions, { mastodon: 7 });
    assert.deepEqual(body.contact, { email: '', account: null });
    assert.deepEqual(body.rules, []);
    assert.deepEqual(body.registrations, {
      enabled: true,
      approval_required: false,
      reason_required: false,
      message: null,
      min_age: null,
      url: null,
    });
    assert.deepEqual(body.configuration, {
      urls: {
        streaming: 'wss://streaming.social.example',
        status: null,
        about: 'https://web.social.example/about',
        privacy_policy: 'https://web.social.example/privacy-policy',
        terms_of_service: null,
      },
      vapid: { public_key: api.ctx.secrets.VAPID_PUBLIC_KEY },
      accounts: { max_featured_tags: 10, max_pinned_statuses: 5 },
      statuses: { max_characters: 500, max_media_attachments: 4, characters_reserved_per_url: 23 },
      media_attachments: {
        supported_mime_types: EXPECTED_MIME_TYPES,
        description_limit: 1500,
        image_size_limit: 16777216,
        image_matrix_limit: 33177600,
        video_size_limit: 103809024,
        video_frame_rate_limit: 120,
        video_matrix_limit: 8294400,
      },
      polls: { max_options: 4, max_characters_per_option: 50, min_expiration: 300, max_expiration: 2629746 },
      translation: { enabled: false },
      timelines_access: {
        live_feeds: { local: 'public', remote: 'public' },
        hashtag_feeds: { local: 'public', remote: 'public' },
        trending_link_feeds: { local: 'public', remote: 'public' },
      },
      limited_federation: false,
    });
  });

  test('the thumbnail is a real image served by this server', async () => {
    const { body } = await get('/api/v2/instance');
    const url = new URL(body.thumbnail.url);
    assert.equal(url.origin, 'https://web.social.example');
    const image = await api.inject({ method: 'GET', url: url.pathname });
    assert.equal(image.statusCode, 200);
    assert.equal(image.headers['content-type'], 'image/png');
    assert.deepEqual([...image.rawPayload.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal((await api.inject({ method: 'GET', url: '/assets/nothing.png' })).statusCode, 404);
    assert.equal((await api.inject({ method: 'GET', url: '/assets/..%2Fserver.ts' })).statusCode, 404);
  });

  test('reflects the settings as soon as they change', async () => {
    await withSettings(
      {
        site_title: 'Sheep Club',
        site_short_description: 'A place for sheep.',
        site_contact_email: 'admin@social.example',
        registrations_mode: 'approved',
        require_invite_text: true,
        status_page_url: 'https://status.social.example',
      },
      async () => {
        const { body } = await get('/api/v2/instance');
        assert.equal(body.title, 'Sheep Club');
        assert.equal(body.description, 'A place for sheep.');
        assert.deepEqual(body.contact, { email: 'admin@social.example', account: null });
        assert.equal(body.configuration.urls.status, 'https://status.social.example');
        assert.deepEqual(body.registrations, {
          enabled: true,
          approval_required: true,
          reason_required: true,
          message: null,
          min_age: null,
          url: null,
        });
      },
    );
    assert.equal((await get('/api/v2/instance')).body.title, 'Woolly');
  });

  test('closed registrations carry the message as HTML, escaped', async () => {
    await withSettings(
      {
        registrations_mode: 'none',
        closed_registrations_message: 'Closed <for now>.\n\nAsk admin@social.example',
      },
      async () => {
        const { body } = await get('/api/v2/instance');
        assert.equal(body.registrations.enabled, false);
        assert.equal(body.registrations.approval_required, false);
        assert.equal(
          body.registrations.message,
          '<p>Closed &lt;for now&gt;.</p><p>Ask admin@social.example</p>',
        );
      },
    );
    await withSettings({ registrations_mode: 'none' }, async () => {
      assert.equal((await get('/api/v2/instance')).body.registrations.message, null);
    });
  });

  test('single-user mode closes registrations', async () => {
    const single = await buildTestServer({ ...api.ctx, config: { ...api.ctx.config, singleUserMode: true } });
    try {
      const res = await single.inject({ method: 'GET', url: '/api/v2/instance' });
      assert.equal(res.json().registrations.enabled, false);
      assert.equal(
        (await single.inject({ method: 'GET', url: '/api/v1/instance' })).json().registrations,
        false,
      );
    } finally {
      await single.close();
    }
  });
});

describe('GET /api/v1/instance', () => {
  test('matches the V1Instance schema', async (t) => {
    if (schemaSkipReason) return t.skip(schemaSkipReason);
    assertMatchesSchema((await get('/api/v1/instance')).body, 'V1Instance');
    await withSettings({ site_contact_email: 'admin@social.example' }, async () => {
      assertMatchesSchema((await get('/api/v1/instance')).body, 'V1Instance');
    });
  });

  test('has the v1 fields and is marked deprecated', async () => {
    const { res, body } = await get('/api/v1/instance');
    assert.equal(res.headers.deprecation, '@1668384000');
    assert.deepEqual(Object.keys(body).sort(), [
      'approval_required',
      'configuration',
      'contact_account',
      'description',
      'email',
      'invites_enabled',
      'languages',
      'registrations',
      'rules',
      'short_description',
      'stats',
      'thumbnail',
      'title',
      'uri',
      'urls',
      'version',
    ]);
    assert.equal(body.uri, 'social.example');
    assert.equal(body.version, `4.5.0 (compatible; Woolly ${pkg.version})`);
    assert.deepEqual(body.urls, { streaming_api: 'wss://streaming.social.example' });
    assert.deepEqual(body.stats, { user_count: 0, status_count: 0, domain_count: 0 });
    assert.equal(body.thumbnail, 'https://web.social.example/assets/preview.png');
    assert.deepEqual(body.languages, ['fr']);
    assert.equal(body.registrations, true);
    assert.equal(body.approval_required, false);
    assert.equal(body.invites_enabled, false);
    assert.equal(body.contact_account, null);
    assert.deepEqual(body.rules, []);
    assert.deepEqual(Object.keys(body.configuration).sort(), [
      'accounts',
      'media_attachments',
      'polls',
      'statuses',
    ]);
    assert.deepEqual(body.configuration.accounts, { max_featured_tags: 10 });
    assert.equal(body.configuration.statuses.max_characters, 500);
    assert.deepEqual(body.configuration.media_attachments.supported_mime_types, EXPECTED_MIME_TYPES);
  });

  test('reflects the settings', async () => {
    await withSettings(
      {
        site_title: 'Flock',
        site_short_description: 'Baa.',
        site_contact_email: 'a@b.example',
        registrations_mode: 'approved',
      },
      async () => {
        const { body } = await get('/api/v1/instance');
        assert.equal(body.title, 'Flock');
        assert.equal(body.short_description, 'Baa.');
        assert.equal(body.email, 'a@b.example');
        assert.equal(body.registrations, true);
        assert.equal(body.approval_required, true);
      },
    );
  });
});

describe('counts and the contact account', () => {
  test('count confirmed local users and show the contact account', async (t) => {
    invalidateInstanceStats(api.ctx);
    const before = (await get('/api/v1/instance')).body.stats.user_count as number;
    const admin = await createTestUser(api.ctx, { username: 'flockadmin' });
    await createTestUser(api.ctx, { username: 'notyet', confirmed: false });
    invalidateInstanceStats(api.ctx);
    const { body: v1 } = await get('/api/v1/instance');
    assert.equal(v1.stats.user_count, before + 1, 'the unconfirmed user is not counted');
    await withSettings({ site_contact_username: 'flockadmin' }, async () => {
      const { body } = await get('/api/v2/instance');
      assert.equal(body.contact.account.id, admin.account.id);
      assert.equal(body.contact.account.username, 'flockadmin');
      assert.equal((await get('/api/v1/instance')).body.contact_account.id, admin.account.id);
      if (schemaSkipReason) return t.skip(schemaSkipReason);
      assertMatchesSchema(body, 'Instance');
    });
    await withSettings({ site_contact_username: 'nobody_here' }, async () => {
      assert.equal((await get('/api/v2/instance')).body.contact.account, null);
    });
  });
});

describe('instance documents and lists', () => {
  test('extended description and privacy policy: empty until written, then HTML with a date', async (t) => {
    for (const [url, schema] of [
      ['/api/v1/instance/extended_description', 'ExtendedDescription'],
      ['/api/v1/instance/privacy_policy', 'PrivacyPolicy'],
    ] as const) {
      const empty = (await get(url)).body;
      assert.deepEqual(empty, { updated_at: null, content: '' });
      if (!schemaSkipReason) assertMatchesSchema(empty, schema);
    }
    const before = Date.now();
    await withSettings(
      { site_extended_description: 'Welcome!\nBe kind.', site_terms: 'We keep <nothing>.' },
      async () => {
        const about = (await get('/api/v1/instance/extended_description')).body;
        assert.equal(about.content, '<p>Welcome!<br>Be kind.</p>');
        assert.ok(Date.parse(about.updated_at) >= before - 5000, about.updated_at);
        const policy = (await get('/api/v1/instance/privacy_policy')).body;
        assert.equal(policy.content, '<p>We keep &lt;nothing&gt;.</p>');
        assert.match(policy.updated_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        if (schemaSkipReason) return t.skip(schemaSkipReason);
        assertMatchesSchema(about, 'ExtendedDescription');
        assertMatchesSchema(policy, 'PrivacyPolicy');
      },
    );
  });

  test('languages lists ISO 639-1 codes with names', async () => {
    const { body } = await get('/api/v1/instance/languages');
    assert.ok(Array.isArray(body) && body.length >= 180);
    assert.deepEqual(
      body.find((l: { code: string }) => l.code === 'fr'),
      { code: 'fr', name: 'French' },
    );
    for (const l of body) assert.match(l.code, /^[a-z]{2}$/);
  });

  test('translation languages are empty while translation is disabled', async () => {
    assert.deepEqual((await get('/api/v1/instance/translation_languages')).body, {});
  });

  test('endpoints with no honest data yet are absent', async () => {
    for (const path of ['peers', 'activity', 'rules', 'domain_blocks', 'terms_of_service']) {
      const res = await api.inject({ method: 'GET', url: `/api/v1/instance/${path}` });
      assert.equal(res.statusCode, 404, path);
      assert.deepEqual(res.json(), { error: 'Record not found' });
    }
  });
});
