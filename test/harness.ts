import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { testConfig, type Config } from '../src/config.ts';
import { ManualClock, type Clock } from '../src/core/runtime.ts';
import { startServer, type RunningServer, type StartOptions } from '../src/server.ts';

import { signedHeaders } from './support/sdk-signer.ts';

export { signedHeaders };

export const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

export interface TestUser {
  name: string;
  id: string;
  account: string;
  accountId: string;
  projectId: string;
  password: string;
  ak: string;
  sk: string;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/**
 * A world: a real kmsd on loopback with two accounts and fresh ids.
 * - acme: admin (administrator), alice (kms:*:*), reader (kms:cmk:get, kms:cmk:list),
 *   nobody (no policies), gina (no policies; a grantee inside the key's account)
 * - globex: boss (administrator), gus (no policies; a grantee in another account),
 *   rita (kms:grant:list, kms:cmk:retireGrant; a retiring principal in another account),
 *   greg (kms:grant:retire, the OTC name of the same action; a grantee that may retire)
 */
export interface World {
  url: string;
  server: RunningServer;
  clock: Clock;
  dataDir: string;
  users: Record<string, TestUser>;
  as(user: string, auth?: 'token' | 'aksk'): Client;
  close(): Promise<void>;
}

const ACCOUNTS: Record<string, Array<{ name: string; policies: string[] }>> = {
  acme: [
    { name: 'admin', policies: [] },
    { name: 'alice', policies: ['kms:*:*'] },
    { name: 'reader', policies: ['kms:cmk:get', 'kms:cmk:list'] },
    { name: 'nobody', policies: [] },
    { name: 'gina', policies: [] },
  ],
  globex: [
    { name: 'boss', policies: [] },
    { name: 'gus', policies: [] },
    { name: 'rita', policies: ['kms:grant:list', 'kms:cmk:retireGrant'] },
    { name: 'greg', policies: ['kms:grant:retire'] },
  ],
};

export interface WorldOptions {
  clock?: Clock;
  config?: Partial<Config>;
  dataDir?: string;
  /** A logger to watch the server's lines (none by default). */
  logger?: StartOptions['logger'];
}

/** Writes an identities file for the standard world; returns it with the users it declares. */
export function worldIdentities(dir: string): { path: string; users: Record<string, TestUser> } {
  const users: Record<string, TestUser> = {};
  const accounts = Object.entries(ACCOUNTS).map(([account, members]) => {
    const accountId = hex(16);
    const projectId = hex(16);
    return {
      name: account,
      id: accountId,
      project_id: projectId,
      default_keys: ['obs/default'],
      users: members.map((m) => {
        const user: TestUser = {
          name: m.name, id: hex(16), account, accountId, projectId,
          password: `pw-${hex(6)}`, ak: `AK${hex(8).toUpperCase()}`, sk: hex(20),
        };
        users[m.name] = user;
        return { name: m.name, id: user.id, password: user.password, access_keys: [{ ak: user.ak, sk: user.sk }], policies: m.policies };
      }),
    };
  });
  const path = join(dir, 'identities.json');
  writeFileSync(path, JSON.stringify({ accounts }, null, 2));
  return { path, users };
}

/**
 * The world's kmsd is one event loop (startServer, whatever config.workers says): budgets and
 * metrics across several loops are tested on real `kmsd serve --workers 2` processes in
 * test/workers.test.ts (and the crash and cluster suites run two loops per node).
 */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'kmsd-test-'));
  const { path, users } = worldIdentities(dataDir);
  const clock = options.clock ?? new ManualClock(Date.now());
  const config = testConfig({ dataDir, identities: path, port: 0, ...options.config });
  const server = await startServer(config, { clock, logger: options.logger ?? false });
  // The file's passwords are put in force after the start (test/declared-passwords.test.ts):
  // the world's tests count scrypt checks and time logins from a node whose passwords are in.
  await server.identitiesSettled();
  const clients = new Map<string, Client>();
  const world: World = {
    url: server.url,
    server,
    clock,
    dataDir,
    users,
    as(name, auth = 'token') {
      const key = `${name}/${auth}`;
      if (!clients.has(key)) clients.set(key, new Client(world, users[name], auth));
      return clients.get(key) as Client;
    },
    async close() {
      await server.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return world;
}

async function reply(response: Response): Promise<Reply> {
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body, text };
}

/** Calls kmsd as one user, with a token (from POST /v3/auth/tokens) or an SDK-signed AK/SK request. */
export class Client {
  private token: string | null = null;
  readonly world: World;
  readonly user: TestUser;
  readonly auth: 'token' | 'aksk';
  constructor(world: World, user: TestUser, auth: 'token' | 'aksk') {
    this.world = world;
    this.user = user;
    this.auth = auth;
  }

  async getToken(): Promise<string> {
    if (this.token === null) {
      const r = await fetch(`${this.world.url}/v3/auth/tokens`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json;charset=utf8' },
        body: JSON.stringify({
          auth: {
            identity: { methods: ['password'], password: { user: { name: this.user.name, password: this.user.password, domain: { name: this.user.account } } } },
            scope: { project: { id: this.user.projectId } },
          },
        }),
      });
      if (r.status !== 201) throw new Error(`token for ${this.user.name}: ${r.status} ${await r.text()}`);
      this.token = r.headers.get('x-subject-token');
    }
    return this.token as string;
  }

  /** POST a KMS operation with a JSON body (an object, or a raw string sent as is). */
  async kms(operation: string, body: unknown = {}, projectId = this.user.projectId): Promise<Reply> {
    return this.request('POST', `/v1.0/${projectId}/kms/${operation}`, body);
  }

  async request(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<Reply> {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { 'Content-Type': 'application/json;charset=UTF-8', ...extraHeaders };
    if (this.auth === 'token') {
      headers['X-Auth-Token'] = await this.getToken();
    } else {
      Object.assign(headers, signedHeaders(this.world.url, method, path, this.user, headers, text));
    }
    return reply(await fetch(`${this.world.url}${path}`, { method, headers, body: text }));
  }
}

export async function raw(url: string, method: string, path: string, init: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Reply> {
  return reply(await fetch(`${url}${path}`, { method, headers: init.headers, body: init.body as string | undefined }));
}

export const ERR = (code: string, msg: string) => ({ error: { error_code: code, error_msg: msg } });

let aliasCounter = 0;
/** Creates a key as this client and returns its id. */
export async function newKey(client: Client, body: Record<string, unknown> = {}): Promise<string> {
  const r = await client.kms('create-key', { key_alias: `key-${hex(4)}-${++aliasCounter}`, ...body });
  if (r.status !== 200) throw new Error(`create-key: ${r.status} ${r.text}`);
  return r.body.key_info.key_id;
}

/** Creates a grant as this client and returns its id. */
export async function newGrant(
  client: Client, keyId: string, grantee: string, operations: string[], extra: Record<string, unknown> = {},
): Promise<string> {
  const r = await client.kms('create-grant', { key_id: keyId, grantee_principal: grantee, operations, ...extra });
  if (r.status !== 200) throw new Error(`create-grant: ${r.status} ${r.text}`);
  return r.body.grant_id;
}

export const randomKeyId = (): string => crypto.randomUUID();

/** The clear material of a key, read through the server's root key (for independent checks). */
export async function keyMaterial(world: World, keyId: string, version: number): Promise<Buffer> {
  const { materialContext } = await import('../src/core/sealing.ts');
  const sealed = await world.server.store.read((tx) => tx.getMaterial(keyId, version));
  if (!sealed) throw new Error(`no material ${keyId} v${version}`);
  return world.server.rootKey.open(sealed.sealed, materialContext(keyId, version));
}
