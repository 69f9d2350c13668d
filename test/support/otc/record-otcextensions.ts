// Records otcextensions' KMS requests once (issue 27), into test/fixtures/otc/:
//   PBR_VERSION=0.34.5 OTCEXT=/path/to/python-otcextensions-0.34.5 npx node test/support/otc/record-otcextensions.ts
// A recording proxy sits in front of a test world; kmsd's --public-url names the proxy, so every
// URL the client builds from the catalog passes through it. Ids are replaced by {{names}} the
// replay (test/otcextensions.test.ts) fills in; answers are kept as their JSON shape.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startWorld } from '../../harness.ts';
import { firstValues } from './placeholders.ts';

const KEPT_HEADERS = ['accept', 'content-type', 'x-language', 'user-agent', 'openstack-api-version'];

interface Exchange { method: string; path: string; headers: Record<string, string>; body: string; status: number; answer: string }
const exchanges: Exchange[] = [];

const read = (stream: IncomingMessage): Promise<Buffer> => new Promise((resolve, reject) => {
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
});

const proxy = createServer(async (req, res) => {
  const body = await read(req);
  const upstream = new URL(target);
  const forward = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, async (answer) => {
    const data = await read(answer);
    exchanges.push({
      method: req.method ?? '', path: req.url ?? '', headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => KEPT_HEADERS.includes(k)).map(([k, v]) => [k, String(v)])),
      body: body.toString('utf8'), status: answer.statusCode ?? 0, answer: data.toString('utf8'),
    });
    res.writeHead(answer.statusCode ?? 500, answer.headers);
    res.end(data);
  });
  forward.end(body);
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
const world = await startWorld({ config: { publicUrl: proxyUrl } });
const target = world.url;
const alice = world.users.alice;
const alias = `otcext-${randomBytes(4).toString('hex')}`;
const given = { auth_url: `${proxyUrl}/v3`, user: alice.name, password: alice.password, domain: alice.account, region: 'cn-north-4', alias };
// Asynchronously: the proxy and kmsd run in this process.
const run = await promisify(execFile)('/usr/bin/python3', [join(import.meta.dirname, 'otcextensions-drive.py'), JSON.stringify(given)], {
  env: { PATH: '/usr/bin:/bin', HOME: world.dataDir, PYTHONPATH: process.env.OTCEXT ?? '', PBR_VERSION: process.env.PBR_VERSION ?? '0.34.5' }, encoding: 'utf8',
});

/** The JSON type of every leaf, arrays by their first element. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  return value === null ? 'null' : Number.isInteger(value) ? 'int' : typeof value;
}

// Values the server chose (ids, ciphertexts) become {{field@n}} in later requests: the first value
// of that field in answer n (test/support/otc/placeholders.ts).
const names = new Map<string, string>([[alice.projectId, 'project_id'], [alias, 'alias'], [alice.id, 'user_id']]);
const template = (text: string): string => [...names].reduce((t, [value, name]) => t.split(value).join(`{{${name}}}`), text);
const steps = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
const stepOrder = run.stderr.split('\n').filter((l) => l.startsWith('STEP ')).map((l) => l.slice(5));
const lines = exchanges.filter((e) => !e.path.startsWith('/v3')).map((e, n) => {
  let answer: unknown = e.answer;
  try {
    const json = JSON.parse(e.answer);
    // An error is kept as it is (the client reads its code); anything else as its JSON shape.
    answer = typeof json === 'object' && json !== null && 'error' in json ? json : shapeOf(json);
    for (const [field, value] of firstValues(json)) if (value.length >= 16 && !names.has(value)) names.set(value, `${field}@${n}`);
  } catch { /* not JSON */ }
  return JSON.stringify({ method: e.method, path: template(e.path), headers: e.headers, body: template(e.body), status: e.status, answer });
});
const dir = join(import.meta.dirname, '..', '..', 'fixtures', 'otc');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'otcextensions-requests.jsonl'), `${lines.join('\n')}\n`);
writeFileSync(join(dir, 'otcextensions-reads.json'), `${JSON.stringify({ client: 'python-otcextensions 0.34.5 on Debian python3-openstacksdk 0.101.0', steps: stepOrder, reads: steps }, null, 1)}\n`);
const identity = exchanges.filter((e) => e.path.startsWith('/v3')).map((e) => `${e.method} ${template(e.path)} ${e.status}`);
writeFileSync(join(dir, 'otcextensions-identity.txt'), `${identity.join('\n')}\n`);
await world.close();
proxy.close();
console.log(`${lines.length} KMS requests, ${identity.length} identity requests recorded`);
