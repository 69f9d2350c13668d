import { requireCsmsAction } from '../../../core/secrets/access.ts';
import { generatePassword } from '../../../core/secrets/password.ts';
import { defineOperation, obj, str } from '../../operation.ts';
import { C } from './fields.ts';

/** A random password (node:crypto): length 1-255 (32 by default), types and characters excluded at will. */
export default defineOperation({
  name: 'generate-random-password',
  service: 'csms',
  method: 'POST',
  path: '/v1/{project_id}/csms/generate-password',
  actions: ['csms:secret:generatePassword'],
  fields: {
    password_policy_name: C.text, length: C.passwordLength, exclude_characters: C.excludeCharacters,
    exclude_lowercase: C.flag, exclude_uppercase: C.flag, exclude_numbers: C.flag, exclude_punctuation: C.flag,
    include_space: C.flag, require_each_included_type: C.flag,
  },
  required: [],
  response: obj({ password: str }),
  async handle({ caller }, body) {
    requireCsmsAction(caller);
    return {
      password: generatePassword({
        length: body.length as number | undefined, excludeCharacters: body.exclude_characters as string | undefined,
        excludeLowercase: body.exclude_lowercase === true, excludeUppercase: body.exclude_uppercase === true,
        excludeNumbers: body.exclude_numbers === true, excludePunctuation: body.exclude_punctuation === true,
        includeSpace: body.include_space === true, requireEachIncludedType: body.require_each_included_type === true,
      }),
    };
  },
});
