import { requireAction } from '../../core/access.ts';
import { DECISIONS } from '../../core/decisions.ts';
import { randomData } from '../../core/data.ts';
import { kms } from '../../core/errors.ts';
import { F } from '../fields.ts';
import { defineOperation, obj, str } from '../operation.ts';

export default defineOperation({
  name: 'gen-random',
  method: 'POST',
  actions: ['kms:cmk:generate', 'kms::generateRandom', 'kms:cmk:generateRandom'],
  fields: { random_data_length: F.randomDataLength, sequence: F.sequence },
  required: ['random_data_length'],
  response: obj({ random_data: str }),
  async handle({ caller }, body) {
    requireAction(caller);
    return { random_data: randomData(body.random_data_length as string) };
  },
});
