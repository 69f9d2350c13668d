import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IdentitiesSpec } from './identities.ts';

/** A development user: a password and one AK/SK pair, generated. */
function generatedUser(name: string, policies: string[]): IdentitiesSpec['accounts'][number]['users'][number] {
  return {
    name,
    password: randomBytes(12).toString('base64url'),
    access_keys: [{ ak: `DEV${randomBytes(9).toString('hex').toUpperCase()}`, sk: randomBytes(24).toString('base64url') }],
    policies,
  };
}

/**
 * The development account's users: `admin` holds every action; `app` holds only what a grantee
 * needs beyond its grants (a grant lets it use the key; retiring and listing what it may retire
 * are IAM actions), so the grant/retire flow can be tried right after the quick start.
 */
export const DEV_USERS = [
  { name: 'admin', policies: ['*:*:*'] },
  { name: 'app', policies: ['kms:cmk:retireGrant', 'kms:cmk:listRetirableGrants'] },
] as const;

/**
 * When kmsd starts without an identities file, it serves a development account whose
 * credentials are generated once into <data-dir>/dev-identities.json (mode 0600) and
 * reused on every later start. A file written before `app` existed gains it (the file is
 * kmsd's own; every user already in it stays as it is).
 */
export function devIdentities(dataDir: string): DevIdentities {
  const path = join(dataDir, 'dev-identities.json');
  if (!existsSync(path)) {
    const spec: IdentitiesSpec = { accounts: [{ name: 'dev', users: DEV_USERS.map((u) => generatedUser(u.name, [...u.policies])) }] };
    writeFileSync(path, `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return { spec, path, generated: true };
  }
  const spec = JSON.parse(readFileSync(path, 'utf8')) as IdentitiesSpec;
  const account = spec.accounts?.[0];
  const missing = account?.name === 'dev' ? DEV_USERS.filter((u) => !account.users.some((have) => have.name === u.name)) : [];
  if (account && missing.length > 0) {
    for (const u of missing) account.users.push(generatedUser(u.name, [...u.policies]));
    writeFileSync(path, `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600 });
  }
  return { spec, path, generated: missing.length > 0 };
}

/** The development account's file; `generated`: this start generated a user of it (a fresh data directory). */
export interface DevIdentities {
  spec: IdentitiesSpec;
  path: string;
  generated: boolean;
}
