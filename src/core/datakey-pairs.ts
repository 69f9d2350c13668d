import { EnvelopeKind } from './envelope.ts';
import { kms } from './errors.ts';
import { DECISIONS } from './decisions.ts';
import type { Tx } from '../store/store.ts';
import { decryptDataAsymmetric, encryptAsymmetric, grantedKey, ownerKey, publicPem, requireUsableState } from './asymmetric.ts';
import { decryptData, encryptUnder, usableKey } from './data.ts';
import { generatePair, requireSymmetricEncryptionKey } from './key-specs.ts';
import { requireCryptoUse } from './material.ts';
import { unbounded, type Bounded } from './fair-gate.ts';
import type { Caller } from './model.ts';
import type { RootKey } from './sealing.ts';

/**
 * create-rsa-datakey-pair / create-ec-datakey-pair (reference §5.7): a fresh key pair whose
 * private key (PKCS#8 DER) comes back encrypted under a symmetric key exactly as encrypt-data
 * would encrypt it (so decrypt-data opens it, with the same additional authenticated data),
 * and in the clear unless with_plain_text is false. kmsd keeps nothing of the pair.
 */
export const RSA_PAIR_SPECS: Readonly<Record<string, number>> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };
export const EC_PAIR_SPECS: Readonly<Record<string, string>> = {
  ECC_NIST_P256: 'prime256v1', ECC_NIST_P384: 'secp384r1', ECC_NIST_P521: 'secp521r1', ECC_SECG_P256K1: 'secp256k1', SM2: 'SM2',
};

const ENCODING = { privateKeyEncoding: { type: 'pkcs8', format: 'der' }, publicKeyEncoding: { type: 'spki', format: 'pem' } } as const;

async function newPair(spec: string): Promise<{ publicKey: string; privateKey: Buffer }> {
  const pair = spec in RSA_PAIR_SPECS
    ? await generatePair('rsa', { modulusLength: RSA_PAIR_SPECS[spec], publicExponent: 0x10001, ...ENCODING })
    : await generatePair('ec', { namedCurve: EC_PAIR_SPECS[spec], ...ENCODING });
  return { publicKey: pair.publicKey as string, privateKey: pair.privateKey };
}

export interface PairInput {
  keyId: string;
  spec: string;
  withPlaintext: boolean;
  aad: Buffer;
}

/**
 * Checks the caller and key (IAM only: grants cannot name this operation), then generates the
 * pair outside any transaction (RSA is slow) and encrypts its private key in a second read,
 * which checks everything again.
 */
export async function createDataKeyPair(
  store: { read<T>(work: (tx: Tx) => Promise<T>): Promise<T> }, caller: Caller, rootKey: RootKey, input: PairInput, now: () => number,
  generate: Bounded = unbounded,
) {
  if (!(input.spec in RSA_PAIR_SPECS) && !(input.spec in EC_PAIR_SPECS)) throw kms('KMS.0308');
  const check = async (tx: Tx) => {
    const key = await ownerKey(tx, caller, input.keyId, now());
    requireSymmetricEncryptionKey(key.spec, key.usage);
    requireUsableState(key);
    await requireCryptoUse(tx, key);
    return key;
  };
  await store.read(check);
  const pair = await generate(() => newPair(input.spec));
  try {
    const { key, ciphertext } = await store.read(async (tx) => {
      const key = await check(tx);
      // An encrypt-data ciphertext: decrypt-data opens it (the private key is data to the caller).
      return { key, ciphertext: await encryptUnder(tx, rootKey, key, EnvelopeKind.data, pair.privateKey, input.aad) };
    });
    return {
      key,
      publicKey: pair.publicKey.replace(/\r?\n/g, '\r\n'),
      privateKeyCiphertext: ciphertext.toString('base64'),
      privateKeyPlaintext: input.withPlaintext ? pair.privateKey.toString('base64') : null,
    };
  } finally {
    pair.privateKey.fill(0);
  }
}

export { publicPem };

export interface ReEncryptInput {
  ciphertext: Buffer;
  sourceKeyId?: string;
  sourceAad: Buffer;
  sourceAlgorithm: string;
  destinationKeyId: string;
  destinationAad: Buffer;
  destinationAlgorithm: string;
  /** Whether format-1 source envelopes still open (--legacy-envelopes). */
  legacy: boolean;
}

/**
 * Who re-encrypt checks on each side: on the source the caller asking for re-encrypt's action
 * and decrypt-data's at once, on the destination for re-encrypt's and encrypt-data's
 * (holdingBoth in access.ts).
 */
export interface ReEncryptRights {
  source: Caller;
  destination: Caller;
}

/**
 * re-encrypt: decrypts with the decrypt-data right on the source key (its account's IAM actions
 * or a grant with decrypt-data) and encrypts with the encrypt-data right on the destination,
 * in one read; both besides re-encrypt's own action. An asymmetric source needs source_key_id
 * (RSA ciphertexts do not name a key).
 */
export async function reEncrypt(tx: Tx, rights: ReEncryptRights, rootKey: RootKey, input: ReEncryptInput, now: number) {
  const symmetricSource = input.sourceAlgorithm === 'SYMMETRIC_DEFAULT';
  if (!symmetricSource && input.sourceKeyId === undefined) throw kms(DECISIONS.asymmetricNeedsKeyId);
  const source = symmetricSource
    ? await decryptData(tx, rights.source, rootKey, { ciphertext: input.ciphertext, keyId: input.sourceKeyId, aad: input.sourceAad, legacy: input.legacy }, now)
    : await decryptDataAsymmetric(tx, rights.source, rootKey, { keyId: input.sourceKeyId as string, algorithm: input.sourceAlgorithm, ciphertext: input.ciphertext }, now);
  const plaintext = source.plaintext;
  try {
    if (input.destinationAlgorithm === 'SYMMETRIC_DEFAULT') {
      const destination = await usableKey(tx, rights.destination, input.destinationKeyId, 'encrypt-data', now);
      return { source: source.key, destination, ciphertext: await encryptUnder(tx, rootKey, destination, EnvelopeKind.data, plaintext, input.destinationAad) };
    }
    const destination = await grantedKey(tx, rights.destination, input.destinationKeyId, 'encrypt-data', now);
    return { source: source.key, destination, ciphertext: await encryptAsymmetric(tx, rootKey, destination, input.destinationAlgorithm, plaintext) };
  } finally {
    plaintext.fill(0);
  }
}
