import type { KmsClient } from '../client/client.ts';
import { CONNECTION_HELP, command, connect, emit, noMorePositionals, positional, record, stateName, table, time, type Parsed } from './connect.ts';
import { group } from './group.ts';

export const KEYS_HELP = `usage: kmsd keys <command> [flags]
  list [--state 1-5] [--spec AES_256|SM4|...|ALL] [--page-size N]   every key (all pages; default --spec ALL)
  create <alias> [--spec AES_256|SM4] [--usage ENCRYPT_DECRYPT] [--description TEXT]
  describe <key-id>
  enable <key-id>
  disable <key-id>
  delete <key-id> [--pending-days 7-1096]     schedules the deletion (default 7 days)
  cancel-delete <key-id>
${CONNECTION_HELP}`;

type KeyDetails = Record<string, unknown>;

/** A key's details for people: its state named, its dates in ISO 8601. */
const humanKey = (k: KeyDetails): KeyDetails => {
  const shown = { ...k };
  if ('key_state' in k) shown.key_state = `${String(k.key_state)} (${stateName(k.key_state)})`;
  for (const name of ['creation_date', 'scheduled_deletion_date']) if (name in k) shown[name] = time(k[name]);
  return shown;
};

const keyCommand = (run: (client: KmsClient, parsed: Parsed) => Promise<unknown>, human: (answer: any) => string, own = {}) =>
  command(KEYS_HELP, async (parsed, output) => {
    const answer = await run(connect(parsed.flags), parsed);
    emit(output, answer, () => human(answer));
  }, own);

const keyId = (parsed: Parsed) => {
  noMorePositionals(parsed, 1);
  return positional(parsed, 0, 'key id');
};

export const keys = group('keys', KEYS_HELP, {
  list: keyCommand(async (client, parsed) => {
    noMorePositionals(parsed, 0);
    const f = parsed.flags as Record<string, string | undefined>;
    const input = { key_spec: (f.spec ?? 'ALL') as 'ALL', ...(f.state !== undefined && { key_state: f.state }), ...(f['page-size'] !== undefined && { limit: f['page-size'] }) };
    const all: KeyDetails[] = [];
    for await (const key of client.paginateKeys(input)) all.push(key);
    return all;
  }, (all: KeyDetails[]) => table(
    ['KEY ID', 'ALIAS', 'STATE', 'SPEC', 'USAGE', 'CREATED'],
    all.map((k) => [String(k.key_id), String(k.key_alias), stateName(k.key_state), String(k.key_spec), String(k.key_usage), time(k.creation_date)]),
  ), { state: { type: 'string' }, spec: { type: 'string' }, 'page-size': { type: 'string' } }),

  create: keyCommand(async (client, parsed) => {
    noMorePositionals(parsed, 1);
    const f = parsed.flags as Record<string, string | undefined>;
    return client.createKey({
      key_alias: positional(parsed, 0, 'alias'),
      ...(f.spec !== undefined && { key_spec: f.spec }),
      ...(f.usage !== undefined && { key_usage: f.usage as 'ENCRYPT_DECRYPT' }),
      ...(f.description !== undefined && { key_description: f.description }),
    });
  }, (a) => record(a.key_info ?? {}), { spec: { type: 'string' }, usage: { type: 'string' }, description: { type: 'string' } }),

  describe: keyCommand((client, parsed) => client.describeKey({ key_id: keyId(parsed) }), (a) => record(humanKey(a.key_info ?? {}))),
  enable: keyCommand((client, parsed) => client.enableKey({ key_id: keyId(parsed) }), (a) => record(humanKey(a.key_info ?? {}))),
  disable: keyCommand((client, parsed) => client.disableKey({ key_id: keyId(parsed) }), (a) => record(humanKey(a.key_info ?? {}))),
  delete: keyCommand(
    (client, parsed) => client.scheduleKeyDeletion({ key_id: keyId(parsed), pending_days: (parsed.flags['pending-days'] as string | undefined) ?? '7' }),
    (a) => record(humanKey(a)),
    { 'pending-days': { type: 'string' } },
  ),
  'cancel-delete': keyCommand((client, parsed) => client.cancelKeyDeletion({ key_id: keyId(parsed) }), (a) => record(humanKey(a))),
});
