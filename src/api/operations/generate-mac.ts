import { generateMac } from '../../core/mac.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'generate-mac',
  method: 'POST',
  actions: ['kms:cmk:generateMac'],
  fields: { key_id: F.keyId, mac_algorithm: F.macAlgorithm, message: F.message, sequence: F.sequence },
  required: ['key_id', 'mac_algorithm', 'message'],
  // mac in lowercase hex, as the official GenerateMac example shows.
  response: obj({ key_id: str, mac_algorithm: str, mac: str }),
  async handle({ store, caller, clock, rootKey }, body) {
    const input = { keyId: body.key_id as string, algorithm: body.mac_algorithm as string, message: Buffer.from(body.message as string, 'base64') };
    const { key, mac } = await store.read((tx) => generateMac(tx, caller, rootKey, input, clock.now()));
    return { key_id: key.keyId, mac_algorithm: input.algorithm, mac: mac.toString('hex') };
  },
});
