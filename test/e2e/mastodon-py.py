"""A real third-party client against Woolly: Mastodon.py (Debian's python3-mastodon).

Usage: python3 mastodon-py.py BASE_URL EMAIL PASSWORD
Prints one `ok <step>` line per step; any failure raises and exits non-zero.
"""
import sys
from mastodon import Mastodon

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
m.revoke_access_token()
try:
    m.account_verify_credentials()
    raise SystemExit('the token still works after revoke')
except Exception as error:  # Mastodon.py raises MastodonUnauthorizedError
    assert '401' in str(error) or 'Unauthorized' in type(error).__name__, error
print('ok revoke')
