import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { canonicalQuery, canonicalRequest, canonicalUri, checkSignature, nodeSdkCanonicalUri, parseAuthorization, parseSdkDate, sign, type SignableRequest } from './signature.ts';

interface Fixture {
  sdk: string;
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body: string;
  signature_valid_with: Record<string, string>;
}

const fixturesPath = fileURLToPath(new URL('../../test/fixtures/sdk-requests.jsonl', import.meta.url));
const fixtures: Fixture[] = readFileSync(fixturesPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

function toSignable(f: Fixture, change: { body?: string; header?: [string, string] } = {}): SignableRequest {
  const headers = new Map(f.headers.map(([n, v]) => [n.toLowerCase(), v]));
  if (change.header) headers.set(change.header[0], change.header[1]);
  return { method: f.method, url: f.path, header: (n) => headers.get(n), body: Buffer.from(change.body ?? f.body ?? '', 'utf8') };
}

function verify(f: Fixture, request = toSignable(f), sk = 'SKTEST'): string | null {
  const auth = parseAuthorization(request.header('authorization') as string);
  assert.ok(auth, 'Authorization parses');
  // The clock is injected: the fixtures were signed at their X-Sdk-Date.
  const now = parseSdkDate(request.header('x-sdk-date')) as number;
  return checkSignature(request, auth, sk, now);
}

test('the fixtures cover the Python, Node.js and Go SDKs', () => {
  assert.deepEqual([...new Set(fixtures.map((f) => f.sdk))].sort(), ['go', 'nodejs', 'python']);
  assert.equal(fixtures.length, 50);
});

for (const [i, f] of fixtures.entries()) {
  test(`${f.sdk} request #${i} to ${f.path} verifies with AKTEST/SKTEST`, () => {
    assert.equal(verify(f), null);
  });
}

test('every fixture fails with another secret key', () => {
  for (const f of fixtures) assert.equal(verify(f, toSignable(f), 'SKTEST2'), 'verify aksk signature fail');
});

test('one changed byte in the body fails every fixture with a body', () => {
  for (const f of fixtures.filter((x) => x.body)) {
    const body = f.body.replace(/.$/s, (c) => (c === '}' ? ']' : '}'));
    assert.equal(verify(f, toSignable(f, { body })), 'verify aksk signature fail', f.path);
  }
});

test('a changed signed header fails every fixture', () => {
  for (const f of fixtures) {
    const request = toSignable(f);
    const auth = parseAuthorization(request.header('authorization') as string);
    const name = auth?.signedHeaders.find((h) => h !== 'x-sdk-date') as string;
    const changed = toSignable(f, { header: [name, `${request.header(name)}x`] });
    assert.equal(verify(f, changed), 'verify aksk signature fail', `${f.sdk} ${name}`);
  }
});

test('a declared payload hash that is not the body hash fails', () => {
  const f = fixtures[0];
  const request = toSignable(f, { header: ['x-sdk-content-sha256', 'UNSIGNED-PAYLOAD'] });
  assert.equal(verify(f, request), 'verify aksk signature fail');
});

test('a signature 16 minutes old or ahead is expired; 15 minutes is inside the window', () => {
  const f = fixtures[0];
  const request = toSignable(f);
  const auth = parseAuthorization(request.header('authorization') as string);
  assert.ok(auth);
  const signedAt = parseSdkDate(request.header('x-sdk-date')) as number;
  assert.equal(checkSignature(request, auth, 'SKTEST', signedAt + 15 * 60_000), null);
  assert.equal(checkSignature(request, auth, 'SKTEST', signedAt - 15 * 60_000), null);
  assert.match(checkSignature(request, auth, 'SKTEST', signedAt + 16 * 60_000) ?? '', /^signature expired, signature time:20261122T112352Z, server time:20261122T113952Z$/);
  assert.match(checkSignature(request, auth, 'SKTEST', signedAt - 16 * 60_000) ?? '', /^signature expired/);
});

function vectorRequest(method: string, url: string, body: string): SignableRequest {
  return { method, url, header: (n) => (n === 'x-sdk-date' ? '20060102T150405Z' : undefined), body: Buffer.from(body) };
}

test('official Go signing vector 1: GET with a query and no body', () => {
  const request = vectorRequest('GET', '/path?limit=1', '');
  const canonical = canonicalRequest(request, ['x-sdk-date']);
  assert.equal(canonical, 'GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(sign('SecretKey', '20060102T150405Z', canonical as string), '5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624');
});

test('official Go signing vector 2: POST whose body ends in a newline', () => {
  const request = vectorRequest('POST', '/path?key=value', '{"Name":"test","Id":1}\n');
  const canonical = canonicalRequest(request, ['x-sdk-date']) as string;
  assert.equal(sign('SecretKey', '20060102T150405Z', canonical), 'cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59');
});

test('the reference KMS retire-grant example signs as computed there', () => {
  const headers: Record<string, string> = {
    'content-type': 'application/json;charset=UTF-8',
    host: '127.0.0.1:8080',
    'x-project-id': '0123456789abcdef0123456789abcdef',
    'x-sdk-date': '20240101T000000Z',
  };
  const request: SignableRequest = {
    method: 'POST',
    url: '/v1.0/0123456789abcdef0123456789abcdef/kms/retire-grant',
    header: (n) => headers[n],
    body: Buffer.from('{"key_id": "bb6a3d22-dc93-47ac-b5bd-88df7ad35f1e", "grant_id": "7c9a3286af4fcca5f0a385ad13e1d21a50e27b6dbcab50f37f30f93b8939827d"}'),
  };
  const canonical = canonicalRequest(request, ['content-type', 'host', 'x-project-id', 'x-sdk-date']) as string;
  assert.equal(sign('TESTSK', '20240101T000000Z', canonical), '4a005e4b607101f0db3fdfa86521ded612d12bd9e09f47a2a400d381bfdbc59a');
});

test('malformed Authorization headers do not parse', () => {
  for (const header of ['', 'Bearer x', 'SDK-HMAC-SHA256 Access=AK', 'SDK-HMAC-SHA256 Access=AK, SignedHeaders=host, Signature=zz']) {
    assert.equal(parseAuthorization(header), null, header);
  }
});

test('a missing signed header fails instead of signing an empty value', () => {
  const request = vectorRequest('GET', '/path', '');
  assert.equal(canonicalRequest(request, ['host', 'x-sdk-date']), null);
});

test('canonical URI and query: unreserved paths as they are, everything else decoded then RFC 3986 encoded', () => {
  assert.equal(canonicalUri('/v1.0/0f1e2d/kms/encrypt-data'), '/v1.0/0f1e2d/kms/encrypt-data/');
  assert.equal(canonicalUri('/v1.0/p/kms/list-grants/'), '/v1.0/p/kms/list-grants/');
  assert.equal(canonicalUri('/a b/%41%2f/it\'s*'), '/a%20b/A%2F/it%27s%2A/');
  assert.equal(canonicalUri('/bad%zz'), '/bad%25zz/');
  assert.equal(canonicalQuery(''), '');
  assert.equal(canonicalQuery('b=2&a=%20x&a=1&&c'), 'a=%20x&a=1&b=2&c=');
});

test('the Node.js SDK signs a free-text path segment from its legacy-parsed form, encoded again', () => {
  // Sent as /tags/cost%20center and /tags/%E7%8E%AF%E5%A2%83; AKSKSigner hashes url.parse(endpoint).pathname encoded per segment.
  assert.equal(nodeSdkCanonicalUri('/v1.0/p/kms/k/tags/cost%20center'), '/v1.0/p/kms/k/tags/cost%2520center/');
  assert.equal(nodeSdkCanonicalUri('/v1.0/p/kms/k/tags/%E7%8E%AF%E5%A2%83'), '/v1.0/p/kms/k/tags/%E7%8E%AF%E5%A2%83/');
  assert.equal(canonicalUri('/v1.0/p/kms/k/tags/cost%20center'), '/v1.0/p/kms/k/tags/cost%20center/');
});

test('X-Sdk-Date must be a real calendar time: hour 38, minute 61, 31 February and month 13 are refused', () => {
  assert.equal(parseSdkDate('20261122T112352Z'), Date.UTC(2026, 10, 22, 11, 23, 52));
  assert.equal(parseSdkDate('20240229T000000Z'), Date.UTC(2024, 1, 29));
  for (const bad of ['20261122T382352Z', '20261122T116152Z', '20261122T112360Z', '20260231T000000Z', '20261301T000000Z', '20230229T000000Z', '20260000T000000Z']) {
    assert.equal(parseSdkDate(bad), null, bad);
  }
  // A request signed with such a date is refused as a bad signature, whatever the clock says.
  const f = fixtures[0];
  const request = toSignable(f, { header: ['x-sdk-date', '20261122T382352Z'] });
  const auth = parseAuthorization(request.header('authorization') as string);
  assert.ok(auth);
  assert.equal(checkSignature(request, auth, 'SKTEST', Date.UTC(2026, 10, 23, 14, 23, 52)), 'verify aksk signature fail');
});
