import { randomBytes } from 'node:crypto';
import { requireAction } from './access.ts';
import { DECISIONS } from './decisions.ts';
import { kms } from './errors.ts';
import { loadKeystore } from './keystores.ts';
import { KeystoreState, type Caller } from './model.ts';
import type { RootKey } from './sealing.ts';
import type { Tx } from '../store/store.ts';

/** Huawei's own shared clusters, named by number in create-pin's keystore_id (API page "Creating a PIN"). */
const SHARED_CLUSTERS = ['1', '2'];

/**
 * A PIN for the "level-4 cryptography testing" mode (create-pin). kmsd has no HSM partition for it
 * to open, so the PIN is a fresh random value the caller may hand back with create-datakey's
 * pin/pin_type, which kmsd accepts and does not need (DECISIONS.pinFormat). A CipherText PIN is
 * the same kind of value sealed under the root key, bound to the caller's account and the key
 * store named: nothing is stored either way.
 */
export async function createPin(tx: Tx, caller: Caller, rootKey: RootKey, pinType: string, keystoreId: string | undefined): Promise<string> {
  requireAction(caller);
  const pin = randomBytes(DECISIONS.pinFormat.bytes).toString('hex').toUpperCase();
  if (pinType === 'PlainText') return pin;
  if (keystoreId === undefined) throw kms('KMS.0204');
  if (!SHARED_CLUSTERS.includes(keystoreId)) {
    const keystore = await loadKeystore(tx, caller, keystoreId);
    if (keystore.state !== KeystoreState.enabled) throw kms('KMS.0317');
  }
  return rootKey.seal(Buffer.from(pin, 'utf8'), `pin:${caller.accountId}:${keystoreId}`).toString('base64');
}
