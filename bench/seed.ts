import { randomBytes, randomUUID } from 'node:crypto';
import { materialContext, type RootKey } from '../src/core/sealing.ts';
import type { Grant, Key } from '../src/core/model.ts';
import { newGrantId } from '../src/core/runtime.ts';
import type { Store } from '../src/store/store.ts';

/**
 * Fills a store with `keys` keys of one account, each holding `grantsPerKey` grants, written
 * straight through the store interface (the API would take minutes for a million grants).
 */
export async function seedGrants(store: Store, rootKey: RootKey, accountId: string, region: string, issuer: string, keys: number, grantsPerKey: number): Promise<void> {
  const now = Date.now();
  const perUnit = Math.max(1, Math.floor(20_000 / grantsPerKey));
  for (let start = 0; start < keys; start += perUnit) {
    await store.write(async (tx) => {
      for (let k = start; k < Math.min(keys, start + perUnit); k++) {
        const key: Key = {
          keyId: randomUUID(), accountId, region, alias: `seed-${k}`, description: '', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT',
          origin: 'kms', state: '2', creationDate: now, scheduledDeletionDate: null, defaultKey: false, rotationEnabled: false,
          rotationInterval: 365, lastRotationTime: null, rotationDue: null, rotations: 0, materialVersion: 1,
          keystoreId: '0', materialExpires: null, importDigest: null,
        };
        await tx.insertKey(key);
        await tx.insertMaterial({ keyId: key.keyId, version: 1, sealed: rootKey.seal(randomBytes(32), materialContext(key.keyId, 1)), createdAt: now });
        for (let g = 0; g < grantsPerKey; g++) {
          const grant: Grant = {
            grantId: newGrantId(now), keyId: key.keyId, granteePrincipal: randomBytes(16).toString('hex'),
            granteeType: 'user', operations: ['describe-key', 'encrypt-data'], issuingPrincipal: issuer,
            retiringPrincipal: null, name: null, creationDate: now + g,
          };
          await tx.insertGrant(grant);
        }
      }
    });
  }
}
