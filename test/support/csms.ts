import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hex, type Client, type Reply, type TestUser, type World } from '../harness.ts';

// Helpers of the CSMS (secrets) tests: paths, calls, and IAM users with given policies.

export const CSMS_ERR = (code: string, msg: string) => ({ error_code: code, error_msg: msg });
export const NO_SECRET = CSMS_ERR('CSMS.0005', 'The resource does not exist.');
export const CSMS_DENIED = CSMS_ERR('CSMS.0302', 'No access permissions.');
export const BAD_PARAM = CSMS_ERR('CSMS.0002', 'The value of parameter is invalid.');
export const KEY_UNUSABLE = CSMS_ERR('CSMS.0401', 'Can not get the protected secret value using the provided KMS key.');

export const secretsPath = (c: Client, rest = '') => `/v1/${c.user.projectId}/secrets${rest}`;
export const csmsPath = (c: Client, rest: string) => `/v1/${c.user.projectId}/csms${rest}`;

let counter = 0;
export const secretName = (): string => `s-${hex(4)}-${++counter}`;

export async function newSecret(c: Client, body: Record<string, unknown> = {}): Promise<Reply> {
  const r = await c.request('POST', secretsPath(c), { name: secretName(), secret_string: 'p@ss-1', ...body });
  if (r.status !== 200) throw new Error(`create-secret: ${r.status} ${r.text}`);
  return r;
}

/**
 * Adds IAM users holding the given policies to the world's identities file and applies it as
 * SIGHUP does; returns them by name.
 */
export async function addUsers(world: World, specs: Array<{ name: string; account?: string; policies: unknown[] }>): Promise<Record<string, TestUser>> {
  const path = join(world.dataDir, 'identities.json');
  const file = JSON.parse(readFileSync(path, 'utf8'));
  const made: Record<string, TestUser> = {};
  for (const spec of specs) {
    const account = file.accounts.find((a: { name: string }) => a.name === (spec.account ?? 'acme'));
    const user: TestUser = {
      name: spec.name, id: hex(16), account: account.name, accountId: account.id, projectId: account.project_id,
      password: '', ak: `AKC${hex(7).toUpperCase()}`, sk: hex(20),
    };
    account.users.push({ name: user.name, id: user.id, access_keys: [{ ak: user.ak, sk: user.sk }], policies: spec.policies });
    world.users[user.name] = user;
    made[user.name] = user;
  }
  writeFileSync(path, JSON.stringify(file));
  await world.server.reloadIdentities();
  return made;
}

/** Gives a user of the world the CSMS actions too (csms:*:*), applied as SIGHUP applies it. */
export async function allowCsms(world: World, name: string): Promise<void> {
  const path = join(world.dataDir, 'identities.json');
  const file = JSON.parse(readFileSync(path, 'utf8'));
  for (const account of file.accounts) {
    for (const user of account.users) if (user.name === name) user.policies = [...user.policies, 'csms:*:*'];
  }
  writeFileSync(path, JSON.stringify(file));
  await world.server.reloadIdentities();
}
