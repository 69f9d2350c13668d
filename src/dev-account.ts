import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IdentitiesSpec } from './identities.ts';

/**
 * When kmsd starts without an identities file, it serves a development account whose
 * credentials are generated once into <data-dir>/dev-identities.json (mode 0600) and
 * reused on every later start.
 */
export function devIdentities(dataDir: string): { spec: IdentitiesSpec; path: string } {
  const path = join(dataDir, 'dev-identities.json');
  if (!existsSync(path)) {
    const spec: IdentitiesSpec = {
      accounts: [
        {
          name: 'dev',
          users: [
            {
              name: 'admin',
              password: randomBytes(12).toString('base64url'),
              access_keys: [{ ak: `DEV${randomBytes(9).toString('hex').toUpperCase()}`, sk: randomBytes(24).toString('base64url') }],
              policies: ['*:*:*'],
            },
          ],
        },
      ],
    };
    writeFileSync(path, `${JSON.stringify(spec, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  }
  return { spec: JSON.parse(readFileSync(path, 'utf8')) as IdentitiesSpec, path };
}
