"""A real third-party client against Woolly: Mastodon.py (Debian's python3-mastodon).

Usage: python3 mastodon-py.py BASE_URL EMAIL PASSWORD
Prints one `ok <step>` line per step; any failure raises and exits non-zero.
"""
import struct
import sys
import threading
import time
import zlib
from mastodon import Mastodon, StreamListener

base, email, password = sys.argv[1:4]
scopes = ['read', 'write', 'follow', 'push']
client_id, client_secret = Mastodon.create_app('woolly-e2e', api_base_url=base, scopes=scopes)
print('ok create_app')
m = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=base)
assert m.retrieve_mastodon_version().startswith('4.5'), m.retrieve_mastodon_version()
print('ok version')
m.log_in(email, password, scopes=scopes)
print('ok log_in')
me = m.account_verify_credentials()
assert me['username'] == 'alice' and me['source']['privacy'] == 'public', me
print('ok verify_credentials')
assert m.instance()['uri'], 'instance'
print('ok instance')
m.account_update_credentials(display_name='Alice Woolly', note='Hello\n\nWorld')
me = m.account_verify_credentials()
assert me['display_name'] == 'Alice Woolly' and me['note'] == '<p>Hello</p><p>World</p>', me
print('ok update_credentials')
assert m.account_lookup('alice')['id'] == me['id']
print('ok lookup')
assert 'posting:default:visibility' in m.preferences()
print('ok preferences')


class Listener(StreamListener):
    """Collects what the user stream delivers (Mastodon.py reads the SSE endpoints)."""

    def __init__(self):
        self.updates = []
        self.received = threading.Event()

    def on_update(self, status):
        self.updates.append(status)
        self.received.set()


listener = Listener()
stream = m.stream_user(listener, run_async=True)
deadline = time.time() + 15
while not stream.is_receiving() and time.time() < deadline:
    time.sleep(0.05)
assert stream.is_receiving(), 'the user stream did not open'
posted = m.status_post('Streamed to Mastodon.py')
assert listener.received.wait(15), 'no update arrived on the user stream'
assert listener.updates[0]['id'] == posted['id'], listener.updates
assert listener.updates[0]['content'] == '<p>Streamed to Mastodon.py</p>', listener.updates[0]
stream.close()
print('ok stream_user')


def tiny_png(width=32, height=24):
    """A small RGB PNG, written by hand (no imaging library needed)."""
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b''.join(b'\x00' + b''.join(bytes([(x * 8) % 256, (y * 10) % 256, 128]) for x in range(width)) for y in range(height))
    header = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')


media = m.media_post(tiny_png(), mime_type='image/png', description='A tiny gradient', focus=(0.5, -0.5))
assert media['type'] == 'image' and media['url'].endswith('.png'), media
assert media['description'] == 'A tiny gradient' and media['meta']['focus'] == {'x': 0.5, 'y': -0.5}, media
with_picture = m.status_post('With a picture', media_ids=[media])
read_back = m.status(with_picture['id'])
attachment = read_back['media_attachments'][0]
assert attachment['id'] == media['id'] and attachment['description'] == 'A tiny gradient', read_back
assert attachment['meta']['original']['width'] == 32, attachment
print('ok media_post')
m.revoke_access_token()
try:
    m.account_verify_credentials()
    raise SystemExit('the token still works after revoke')
except Exception as error:  # Mastodon.py raises MastodonUnauthorizedError
    assert '401' in str(error) or 'Unauthorized' in type(error).__name__, error
print('ok revoke')
