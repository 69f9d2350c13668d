// A leaf module (no imports): the command line reads it without loading the server's rules.

/** The grant operations of reference §3.2, exactly as the wire spells them. */
export const GRANT_OPERATIONS = [
  'create-datakey',
  'create-datakey-without-plaintext',
  'encrypt-datakey',
  'decrypt-datakey',
  'describe-key',
  'create-grant',
  'retire-grant',
  'encrypt-data',
  'decrypt-data',
] as const;
export type GrantOperation = (typeof GRANT_OPERATIONS)[number];
