import type { Client } from '../harness.ts';

/** The key's state as describe-key reports it. */
export async function stateOf(client: Client, keyId: string): Promise<string> {
  return (await client.kms('describe-key', { key_id: keyId })).body.key_info.key_state;
}

/** The id of the account's obs/default key. */
export async function defaultKeyOf(client: Client): Promise<string> {
  const r = await client.kms('list-keys', { key_spec: 'ALL' });
  return r.body.key_details.find((k: { key_alias: string }) => k.key_alias === 'obs/default').key_id;
}
