import { randomInt } from 'node:crypto';
import { kms } from '../errors.ts';

// generate-password: a random password from node:crypto's uniform randomInt (never Math.random).

export const PASSWORD_LENGTH = { min: 1, max: 255, default: 32 } as const;

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

export interface PasswordRules {
  length?: number;
  excludeCharacters?: string;
  excludeLowercase?: boolean;
  excludeUppercase?: boolean;
  excludeNumbers?: boolean;
  excludePunctuation?: boolean;
  includeSpace?: boolean;
  requireEachIncludedType?: boolean;
}

const pick = (chars: string): string => chars[randomInt(chars.length)];

/**
 * A password of `length` characters drawn from the included types minus the excluded
 * characters; with requireEachIncludedType, at least one of each type left (in random places).
 * CSMS.0002 when the length is out of 1..255, nothing is left to draw from, or there are more
 * required types than characters.
 */
export function generatePassword(rules: PasswordRules): string {
  const length = rules.length ?? PASSWORD_LENGTH.default;
  if (!Number.isInteger(length) || length < PASSWORD_LENGTH.min || length > PASSWORD_LENGTH.max) throw kms('CSMS.0002');
  const excluded = new Set(rules.excludeCharacters ?? '');
  const types = [
    rules.excludeLowercase ? '' : LOWER,
    rules.excludeUppercase ? '' : UPPER,
    rules.excludeNumbers ? '' : DIGITS,
    rules.excludePunctuation ? '' : PUNCTUATION,
    rules.includeSpace ? ' ' : '',
  ].map((chars) => [...chars].filter((c) => !excluded.has(c)).join('')).filter((chars) => chars.length > 0);
  const all = types.join('');
  if (all.length === 0) throw kms('CSMS.0002');
  const required = rules.requireEachIncludedType ? types.map(pick) : [];
  if (required.length > length) throw kms('CSMS.0002');
  const chars = [...required, ...Array.from({ length: length - required.length }, () => pick(all))];
  // Fisher-Yates with randomInt, so the required characters sit anywhere.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}
