import { createPin } from '../../core/pins.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'create-pin',
  method: 'POST',
  // The API page ("Creating a PIN") lists kms:cmk:createDataKey: the PIN serves data keys.
  actions: ['kms:cmk:createDataKey', 'kms:dek:create'],
  fields: { pin_type: F.pinType, keystore_id: F.keystoreId },
  required: [],
  response: obj({ pin: str }),
  async handle({ store, caller, rootKey }, body) {
    const pin = await store.read((tx) => createPin(tx, caller, rootKey, (body.pin_type as string | undefined) ?? 'CipherText', body.keystore_id as string | undefined));
    return { pin };
  },
});
