import { CONNECTION_HELP, UsageError, command, connect, emit, noMorePositionals, readInput, record, writeOutput } from './connect.ts';

export const ENCRYPT_HELP = `usage: kmsd encrypt --key-id KEY [--in FILE|-] [--out FILE|-] [--aad TEXT]
  encrypts text (UTF-8, 1-4096 bytes) from stdin or --in; writes the base64 ciphertext and a newline
  (--output json: the whole answer)
${CONNECTION_HELP}`;

export const DECRYPT_HELP = `usage: kmsd decrypt [--in FILE|-] [--out FILE|-] [--aad TEXT] [--key-id KEY]
  decrypts a ciphertext (base64, from stdin or --in); writes the plaintext bytes exactly, no newline added
  (--output json: the whole answer)
${CONNECTION_HELP}`;

export const DATAKEY_HELP = `usage: kmsd datakey --key-id KEY [--length BITS | --spec AES_256|AES_128|...] [--no-plaintext]
  a new data key: its plaintext and its ciphertext under KEY, both hex (--no-plaintext: only the ciphertext)
${CONNECTION_HELP}`;

export const RANDOM_HELP = `usage: kmsd random [--bits N]
  N random bits (8-8192, a multiple of 8; default 256) as hex
${CONNECTION_HELP}`;

const aad = (flags: Record<string, unknown>) => (flags.aad !== undefined ? { additional_authenticated_data: flags.aad as string } : {});

function keyIdOf(flags: Record<string, unknown>): string {
  if (flags['key-id'] === undefined) throw new UsageError('missing --key-id');
  return flags['key-id'] as string;
}

const IO = { in: { type: 'string' }, out: { type: 'string' }, aad: { type: 'string' }, 'key-id': { type: 'string' } } as const;

export const encrypt = command(ENCRYPT_HELP, async (parsed, output) => {
  noMorePositionals(parsed, 0);
  const keyId = keyIdOf(parsed.flags);
  const bytes = await readInput(parsed.flags.in as string | undefined);
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw new UsageError('encrypt takes UTF-8 text; for binary data encrypt a data key (kmsd datakey) and use it locally');
  const answer = await connect(parsed.flags).encryptData({ key_id: keyId, plain_text: text, ...aad(parsed.flags) });
  const out = parsed.flags.out as string | undefined;
  if (output === 'json') return writeOutput(out, `${JSON.stringify(answer)}\n`);
  writeOutput(out, `${answer.cipher_text}\n`);
}, IO);

export const decrypt = command(DECRYPT_HELP, async (parsed, output) => {
  noMorePositionals(parsed, 0);
  const cipherText = (await readInput(parsed.flags.in as string | undefined)).toString('utf8').trim();
  const keyId = parsed.flags['key-id'] as string | undefined;
  const answer = await connect(parsed.flags).decryptData({ cipher_text: cipherText, ...(keyId !== undefined && { key_id: keyId }), ...aad(parsed.flags) });
  const out = parsed.flags.out as string | undefined;
  if (output === 'json') return writeOutput(out, `${JSON.stringify(answer)}\n`);
  writeOutput(out, answer.plain_text_base64 !== undefined ? Buffer.from(answer.plain_text_base64, 'base64') : (answer.plain_text ?? ''));
}, IO);

export const datakey = command(DATAKEY_HELP, async (parsed, output) => {
  noMorePositionals(parsed, 0);
  const f = parsed.flags as Record<string, string | boolean | undefined>;
  const input = {
    key_id: keyIdOf(f),
    ...(f.length !== undefined && { datakey_length: f.length as string }),
    ...(f.spec !== undefined && { key_spec: f.spec as string }),
  };
  const client = connect(f);
  const answer = f['no-plaintext'] ? await client.createDatakeyWithoutPlaintext(input) : await client.createDatakey(input);
  emit(output, answer, () => record(answer as unknown as Record<string, unknown>));
}, { 'key-id': { type: 'string' }, length: { type: 'string' }, spec: { type: 'string' }, 'no-plaintext': { type: 'boolean' } });

export const random = command(RANDOM_HELP, async (parsed, output) => {
  noMorePositionals(parsed, 0);
  const bits = (parsed.flags.bits as string | undefined) ?? '256';
  if (!/^\d{1,4}$/.test(bits) || Number(bits) < 8 || Number(bits) > 8192 || Number(bits) % 8 !== 0) {
    throw new UsageError(`--bits ${bits}: give a multiple of 8 from 8 to 8192 (gen-random's random_data_length)`);
  }
  const answer = await connect(parsed.flags).genRandom({ random_data_length: bits });
  emit(output, answer, () => String(answer.random_data));
}, { bits: { type: 'string' } });
