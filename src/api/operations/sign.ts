import { signMessage, signingKey, type MessageType } from '../../core/asymmetric.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'sign',
  method: 'POST',
  actions: ['kms:cmk:sign'],
  fields: { key_id: F.keyId, message: F.message, signing_algorithm: F.signingAlgorithm, message_type: F.messageType, sequence: F.sequence },
  required: ['key_id', 'message', 'signing_algorithm'],
  response: obj({ key_id: str, signature: str }),
  async handle({ store, caller, clock, rootKey, abandoned }, body) {
    const input = {
      keyId: body.key_id as string,
      message: Buffer.from(body.message as string, 'base64'),
      algorithm: body.signing_algorithm as string,
      messageType: ((body.message_type as string | undefined) ?? 'DIGEST') as MessageType,
    };
    const signer = await store.read((tx) => signingKey(tx, caller, rootKey, input, clock.now()));
    // After the read: without the kmsd-crypto addon a DIGEST signature may wait on OpenSSL.
    const signature = await signMessage(signer, input, { owner: caller.accountId, signal: abandoned() });
    const { key } = signer;
    return { key_id: key.keyId, signature: signature.toString('base64') };
  },
});
