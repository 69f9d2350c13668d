import assert from 'node:assert/strict';
import { constants, createPublicKey, publicEncrypt, randomBytes } from 'node:crypto';
import type { Node } from './cluster.ts';

/**
 * A store holding one of every sealed thing, made through the HTTP API, and the answers it
 * gave: after a backup and restore, or a root-key rotation, a kmsd on the result must give
 * exactly the same answers to the same requests (old ciphertexts open, signatures and MACs
 * verify, imported material re-imports, grants are listed and authorize, the trail is whole).
 */
export interface Expectation {
  user: string;
  auth: 'token' | 'aksk';
  operation: string;
  body: Record<string, unknown>;
  status: number;
  answer: unknown;
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

async function call(node: Node, user: string, operation: string, body: Record<string, unknown>, auth: 'token' | 'aksk' = 'token') {
  const r = await node.as(user, auth).kms(operation, body);
  assert.equal(r.status, 200, `${operation}: ${r.status} ${r.text}`);
  return r.body;
}

export interface SealedWorld {
  checks: Expectation[];
  /** The symmetric key gus holds a grant on. */
  aes: string;
  /** An external key whose material was imported, used, then deleted: the same material must re-import. */
  external: string;
  material: Buffer;
}

/** Wraps material for import-key-material with fresh parameters from the node. */
async function importBody(node: Node, keyId: string, material: Buffer) {
  const p = await call(node, 'alice', 'get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_256' });
  const pub = createPublicKey({ key: Buffer.from(p.public_key, 'base64'), format: 'der', type: 'spki' });
  const wrapped = publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, material);
  return { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrapped.toString('base64') };
}

/** Keys of every kind, their outputs, grants (one ended), an imported key; returns what to ask again. */
export async function populate(node: Node, users: Record<string, { id: string }>): Promise<SealedWorld> {
  const checks: Expectation[] = [];
  const expect = async (user: string, operation: string, body: Record<string, unknown>, auth: 'token' | 'aksk' = 'token') => {
    const r = await node.as(user, auth).kms(operation, body);
    checks.push({ user, auth, operation, body, status: r.status, answer: r.body });
    return r;
  };
  const key = async (extra: Record<string, unknown>) =>
    (await call(node, 'alice', 'create-key', { key_alias: `sealed-${randomBytes(4).toString('hex')}`, ...extra })).key_info.key_id as string;

  const aes = await key({});
  const ec = await key({ key_spec: 'EC_P256', key_usage: 'SIGN_VERIFY' });
  const hmac = await key({ key_spec: 'HMAC_256', key_usage: 'GENERATE_VERIFY_MAC' });
  const external = await key({ origin: 'external' });

  // Imported material: the sealed digest a re-import must match travels too.
  const material = randomBytes(32);
  await call(node, 'alice', 'import-key-material', await importBody(node, external, material));

  const sealedData = await call(node, 'alice', 'encrypt-data', { key_id: aes, plain_text: 'kept across the move' });
  const sealedImported = await call(node, 'alice', 'encrypt-data', { key_id: external, plain_text: 'imported material' });
  const signature = await call(node, 'alice', 'sign', { key_id: ec, message: b64('signed once'), signing_algorithm: 'ECDSA_SHA_256', message_type: 'RAW' });
  await call(node, 'alice', 'enable-key-rotation', { key_id: aes });

  await call(node, 'alice', 'create-grant', { key_id: aes, grantee_principal: users.gus.id, operations: ['encrypt-data', 'decrypt-data'], name: 'kept' });
  const ended = (await call(node, 'alice', 'create-grant', { key_id: aes, grantee_principal: users.gus.id, operations: ['decrypt-data'], name: 'ended' })).grant_id;
  await call(node, 'alice', 'revoke-grant', { key_id: aes, grant_id: ended });

  await expect('alice', 'decrypt-data', { cipher_text: sealedData.cipher_text });
  await expect('alice', 'decrypt-data', { cipher_text: sealedImported.cipher_text });
  await expect('gus', 'decrypt-data', { cipher_text: sealedData.cipher_text }, 'aksk');
  await expect('alice', 'verify', { key_id: ec, message: b64('signed once'), signature: signature.signature, signing_algorithm: 'ECDSA_SHA_256', message_type: 'RAW' });
  await expect('alice', 'generate-mac', { key_id: hmac, mac_algorithm: 'HMAC_SHA_256', message: b64('mac me') });
  await expect('alice', 'list-grants', { key_id: aes });
  await expect('alice', 'describe-key', { key_id: external });
  await expect('alice', 'get-publickey', { key_id: ec });
  await expect('gus', 'list-retirable-grants', {});
  // Only the store's own material may come back: the same material re-imports, other material does not.
  await call(node, 'alice', 'delete-imported-key-material', { key_id: external });
  return { checks, aes, external, material };
}

/**
 * On a kmsd serving the moved or rotated store: other material does not import into the
 * external key (its sealed digest still opens and still says no), the same material does, and
 * then every expectation gets exactly its old answer; the grantee still uses its grant.
 */
export async function replay(node: Node, world: SealedWorld): Promise<void> {
  const other = await node.as('alice').kms('import-key-material', await importBody(node, world.external, randomBytes(32)));
  assert.notEqual(other.status, 200, `other material was imported: ${other.text}`);
  await call(node, 'alice', 'import-key-material', await importBody(node, world.external, world.material));
  for (const c of world.checks) {
    const r = await node.as(c.user, c.auth).kms(c.operation, c.body);
    assert.deepEqual({ operation: c.operation, status: r.status, answer: r.body }, { operation: c.operation, status: c.status, answer: c.answer });
  }
  const through = await node.as('gus', 'aksk').kms('encrypt-data', { key_id: world.aes, plain_text: 'through the grant' });
  assert.equal(through.status, 200, through.text);
}
