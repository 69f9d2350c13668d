import { verifyMac } from '../../core/mac.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'verify-mac',
  method: 'POST',
  actions: ['kms:cmk:verifyMac'],
  fields: { key_id: F.keyId, mac_algorithm: F.macAlgorithm, message: F.message, mac: F.mac, sequence: F.sequence },
  required: ['key_id', 'mac_algorithm', 'message', 'mac'],
  // mac_valid is a JSON boolean, as VerifyMacResponse types it.
  response: obj({ key_id: str, mac_algorithm: str, mac_valid: { type: 'boolean' } }),
  async handle({ store, caller, clock, rootKey }, body) {
    const input = {
      keyId: body.key_id as string, algorithm: body.mac_algorithm as string,
      message: Buffer.from(body.message as string, 'base64'), mac: Buffer.from(body.mac as string, 'hex'),
    };
    const { key, valid } = await store.read((tx) => verifyMac(tx, caller, rootKey, input, clock.now()));
    return { key_id: key.keyId, mac_algorithm: input.algorithm, mac_valid: valid };
  },
});
