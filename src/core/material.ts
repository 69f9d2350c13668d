import type { Tx } from '../store/store.ts';
import { requireKeystoreEnabled } from './keystores.ts';
import type { Key, KeyMaterial } from './model.ts';

/**
 * The one way the core reads a key's sealed material for a cryptographic use (encrypt, decrypt,
 * data keys, sign, verify, get-publickey, MACs, re-encrypt, data-key pairs). Every rule that
 * must hold for every use of a key's material lives here, so a new operation cannot forget it:
 * today, that a key in a disabled key store refuses (KMS.0317). The caller's right to the key
 * and the key's own state are checked before, by the operation (they differ per operation).
 *
 * test/attacks-third.test.ts checks that no other core file calls tx.getMaterial.
 */
export async function sealedMaterial(tx: Tx, key: Key, version: number): Promise<KeyMaterial | null> {
  await requireCryptoUse(tx, key);
  return tx.getMaterial(key.keyId, version);
}

/** The same rules, for an operation that will use the key's material later (a data-key pair, checked before it is generated). */
export async function requireCryptoUse(tx: Tx, key: Key): Promise<void> {
  await requireKeystoreEnabled(tx, key);
}
