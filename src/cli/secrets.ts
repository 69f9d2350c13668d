import { readFileSync } from 'node:fs';
import type { KmsClient } from '../client/client.ts';
import { CONNECTION_HELP, command, connect, emit, noMorePositionals, positional, record, table, UsageError, type Parsed } from './connect.ts';
import { group } from './group.ts';

export const SECRETS_HELP = `usage: kmsd secrets <command> [flags]   (CSMS secrets, docs/csms.md)
  list                                        every secret's metadata (never a value)
  create <name> (--value-file FILE | --value TEXT | --binary-file FILE) [--kms-key-id ID] [--description TEXT]
  show <name>                                 metadata
  get-value <name> [--version v1|latest]      the value (latest: the SYSCURRENT version)
  put-value <name> (--value-file FILE | --value TEXT | --binary-file FILE) [--stage NAME]...   a new version
      --value-file - / --binary-file - read stdin: the value stays out of argv (ps, shell history);
      the file's bytes are the value as they are (a trailing newline included)
  versions <name>                             versions and their stages
  stage <name> <stage> <version-id>           puts a stage on a version
  delete <name> [--recovery-days 7-30]        schedules the deletion; --now deletes at once
  restore <name>                              cancels a scheduled deletion
  password [--length 1-255] [--no-punctuation]   a random password
${CONNECTION_HELP}`;

type Secret = Record<string, unknown>;

/** Times as ISO 8601 for people (CSMS times are ms integers). */
const iso = (ms: unknown): string => (typeof ms === 'number' ? new Date(ms).toISOString() : '');
const humanSecret = (s: Secret): Secret => ({ ...s, create_time: iso(s.create_time), update_time: iso(s.update_time), scheduled_delete_time: iso(s.scheduled_delete_time) });

const secretCommand = (run: (client: KmsClient, parsed: Parsed) => Promise<unknown>, human: (answer: any) => string, own = {}) =>
  command(SECRETS_HELP, async (parsed, output) => {
    const answer = await run(connect(parsed.flags), parsed);
    emit(output, answer, () => human(answer));
  }, own);

const nameOnly = (parsed: Parsed) => {
  noMorePositionals(parsed, 1);
  return positional(parsed, 0, 'secret name');
};

/** A file's bytes; `-` is stdin (fd 0). A file that cannot be read is a usage mistake: one line, exit 2. */
function readInput(path: string): Buffer {
  try {
    return readFileSync(path === '-' ? 0 : path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/**
 * The value a command writes: --value-file (text, UTF-8), --value (text; visible in argv) or
 * --binary-file (sent base64).
 */
function valueFlags(parsed: Parsed): { secret_string: string } | { secret_binary: string } {
  const f = parsed.flags as Record<string, string | undefined>;
  const given = [f.value, f['value-file'], f['binary-file']].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UsageError('give exactly one of --value-file, --value and --binary-file');
  if (f['value-file'] !== undefined) return { secret_string: readInput(f['value-file']).toString('utf8') };
  return f.value !== undefined ? { secret_string: f.value } : { secret_binary: readInput(f['binary-file'] as string).toString('base64') };
}

const VALUE_FLAGS = { value: { type: 'string' }, 'value-file': { type: 'string' }, 'binary-file': { type: 'string' } } as const;

export const secrets = group('secrets', SECRETS_HELP, {
  list: secretCommand(async (client) => {
    const all: Secret[] = [];
    let marker: string | undefined;
    do {
      const page = await client.listSecrets({ limit: '1000', ...(marker !== undefined && { marker }) });
      all.push(...((page.secrets ?? []) as Secret[]));
      marker = page.page_info?.next_marker ?? undefined;
    } while (marker);
    return all;
  }, (all: Secret[]) => table(['NAME', 'ID', 'STATE', 'KMS KEY', 'CREATED'], all.map((s) => [String(s.name), String(s.id), String(s.state), String(s.kms_key_id), iso(s.create_time)]))),

  create: secretCommand(async (client, parsed) => {
    const f = parsed.flags as Record<string, string | undefined>;
    return client.createSecret({
      name: nameOnly(parsed), ...valueFlags(parsed),
      ...(f['kms-key-id'] !== undefined && { kms_key_id: f['kms-key-id'] }),
      ...(f.description !== undefined && { description: f.description }),
    });
  }, (a) => record(humanSecret(a.secret ?? {})), { ...VALUE_FLAGS, 'kms-key-id': { type: 'string' }, description: { type: 'string' } }),

  show: secretCommand((client, parsed) => client.showSecret({ secret_name: nameOnly(parsed) }), (a) => record(humanSecret(a.secret ?? {}))),

  'get-value': secretCommand(
    (client, parsed) => client.showSecretVersion({ secret_name: nameOnly(parsed), version_id: (parsed.flags.version as string | undefined) ?? 'latest' }),
    (a) => (a.version?.secret_string ?? a.version?.secret_binary ?? '') as string,
    { version: { type: 'string' } },
  ),

  'put-value': secretCommand(async (client, parsed) => {
    const stages = parsed.flags.stage as string[] | undefined;
    return client.createSecretVersion({ secret_name: nameOnly(parsed), ...valueFlags(parsed), ...(stages !== undefined && { version_stages: stages }) });
  }, (a) => record({ ...a.version_metadata, create_time: iso(a.version_metadata?.create_time) }), { ...VALUE_FLAGS, stage: { type: 'string', multiple: true } }),

  versions: secretCommand(async (client, parsed) => {
    const name = nameOnly(parsed);
    const all: Secret[] = [];
    let marker: string | undefined;
    do {
      const page = await client.listSecretVersions({ secret_name: name, limit: '1000', ...(marker !== undefined && { marker }) });
      all.push(...((page.version_metadatas ?? []) as Secret[]));
      marker = page.page_info?.next_marker ?? undefined;
    } while (marker);
    return all;
  }, (all: Secret[]) => table(['VERSION', 'STAGES', 'CREATED', 'KMS KEY'], all.map((v) => [String(v.id), (v.version_stages as string[]).join(','), iso(v.create_time), String(v.kms_key_id)]))),

  stage: secretCommand(async (client, parsed) => {
    noMorePositionals(parsed, 3);
    return client.updateSecretStage({ secret_name: positional(parsed, 0, 'secret name'), stage_name: positional(parsed, 1, 'stage'), version_id: positional(parsed, 2, 'version id') });
  }, (a) => record({ ...a.stage, update_time: iso(a.stage?.update_time) })),

  delete: secretCommand(async (client, parsed) => {
    const name = nameOnly(parsed);
    if (parsed.flags.now === true) {
      await client.deleteSecret({ secret_name: name });
      return { deleted: name };
    }
    const days = Number((parsed.flags['recovery-days'] as string | undefined) ?? '7');
    return client.deleteSecretForSchedule({ secret_name: name, recovery_window_in_days: days });
  }, (a) => record(a.secret ? humanSecret(a.secret) : a), { 'recovery-days': { type: 'string' }, now: { type: 'boolean' } }),

  restore: secretCommand((client, parsed) => client.restoreSecret({ secret_name: nameOnly(parsed) }), (a) => record(humanSecret(a.secret ?? {}))),

  password: secretCommand(async (client, parsed) => {
    noMorePositionals(parsed, 0);
    const length = parsed.flags.length as string | undefined;
    return client.generateRandomPassword({ ...(length !== undefined && { length: Number(length) }), ...(parsed.flags['no-punctuation'] === true && { exclude_punctuation: true }) });
  }, (a) => String(a.password ?? ''), { length: { type: 'string' }, 'no-punctuation': { type: 'boolean' } }),
});
