import type { KmsClient } from '../client/client.ts';
import { GRANT_OPERATIONS } from '../core/grant-operations.ts';
import { CONNECTION_HELP, UsageError, command, connect, emit, noMorePositionals, positional, record, table, time, type Parsed } from './connect.ts';
import { group } from './group.ts';

export const GRANTS_HELP = `usage: kmsd grants <command> [flags]
  list <key-id> [--page-size N]           the key's grants (all pages)
  list-retirable [--page-size N]          every grant you may retire
  create <key-id> --grantee ID --operations OP,OP,... [--type user|domain] [--name NAME] [--retiring-principal ID]
  revoke <key-id> <grant-id>              (the key's owner side)
  retire <key-id> <grant-id>              (the grant's issuer, retiring principal or grantee)
operations: ${GRANT_OPERATIONS.join(', ')}
${CONNECTION_HELP}`;

type Grant = Record<string, unknown>;
const ops = (g: Grant) => (Array.isArray(g.operations) ? g.operations.join(',') : '');

const grantCommand = (run: (client: KmsClient, parsed: Parsed) => Promise<unknown>, human: (answer: any, parsed: Parsed) => string, own = {}) =>
  command(GRANTS_HELP, async (parsed, output) => {
    const answer = await run(connect(parsed.flags), parsed);
    emit(output, answer, () => human(answer, parsed));
  }, own);

const pageSize = (parsed: Parsed) => (parsed.flags['page-size'] !== undefined ? { limit: parsed.flags['page-size'] as string } : {});

async function collect(items: AsyncIterable<Grant>): Promise<Grant[]> {
  const all: Grant[] = [];
  for await (const item of items) all.push(item);
  return all;
}

const grantIds = (parsed: Parsed) => {
  noMorePositionals(parsed, 2);
  return { key_id: positional(parsed, 0, 'key id'), grant_id: positional(parsed, 1, 'grant id') };
};

export const grants = group('grants', GRANTS_HELP, {
  list: grantCommand(async (client, parsed) => {
    noMorePositionals(parsed, 1);
    return collect(client.paginateGrants({ key_id: positional(parsed, 0, 'key id'), ...pageSize(parsed) }));
  }, (all: Grant[]) => table(
    ['GRANT ID', 'GRANTEE', 'TYPE', 'OPERATIONS', 'NAME', 'CREATED'],
    all.map((g) => [String(g.grant_id), String(g.grantee_principal), String(g.grantee_principal_type), ops(g), String(g.name ?? ''), time(g.creation_date)]),
  ), { 'page-size': { type: 'string' } }),

  'list-retirable': grantCommand(async (client, parsed) => {
    noMorePositionals(parsed, 0);
    return collect(client.paginateRetirableGrants(pageSize(parsed)));
  }, (all: Grant[]) => table(
    ['KEY ID', 'GRANT ID', 'GRANTEE', 'OPERATIONS', 'NAME'],
    all.map((g) => [String(g.key_id), String(g.grant_id), String(g.grantee_principal), ops(g), String(g.name ?? '')]),
  ), { 'page-size': { type: 'string' } }),

  create: grantCommand(async (client, parsed) => {
    noMorePositionals(parsed, 1);
    const f = parsed.flags as Record<string, string | undefined>;
    if (f.grantee === undefined) throw new UsageError('missing --grantee');
    if (f.operations === undefined) throw new UsageError('missing --operations');
    const operations = f.operations.split(',').map((o) => o.trim()).filter((o) => o !== '');
    const unknown = operations.filter((o) => !(GRANT_OPERATIONS as readonly string[]).includes(o));
    if (unknown.length > 0) throw new UsageError(`unknown grant operation ${unknown.map((o) => `"${o}"`).join(', ')}: valid ones are ${GRANT_OPERATIONS.join(', ')}`);
    return client.createGrant({
      key_id: positional(parsed, 0, 'key id'),
      grantee_principal: f.grantee,
      operations: operations as never,
      ...(f.type !== undefined && { grantee_principal_type: f.type as 'user' }),
      ...(f.name !== undefined && { name: f.name }),
      ...(f['retiring-principal'] !== undefined && { retiring_principal: f['retiring-principal'] }),
    });
  }, (a) => record(a), {
    grantee: { type: 'string' }, operations: { type: 'string' }, type: { type: 'string' }, name: { type: 'string' }, 'retiring-principal': { type: 'string' },
  }),

  revoke: grantCommand((client, parsed) => client.revokeGrant(grantIds(parsed)), (_a, parsed) => `revoked grant ${parsed.positionals[1]}`),
  retire: grantCommand((client, parsed) => client.retireGrant(grantIds(parsed)), (_a, parsed) => `retired grant ${parsed.positionals[1]}`),
});
