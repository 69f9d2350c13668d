import { OPERATIONS } from '../client/operations.ts';
import { CONNECTION_HELP, UsageError, command, connect, emit, noMorePositionals, positional, readInput } from './connect.ts';

export const CALL_HELP = `usage: kmsd call <operation> ['<json input>' | -]
  calls any operation with its input as one JSON object (body, query and path fields; - reads stdin)
  and prints the answer (indented JSON; --output json: one line)
operations: ${OPERATIONS.map((d) => d.name).join(', ')}
${CONNECTION_HELP}`;

export const call = command(CALL_HELP, async (parsed, output) => {
  noMorePositionals(parsed, 2);
  const name = positional(parsed, 0, 'operation');
  if (!OPERATIONS.some((d) => d.name === name)) throw new UsageError(`unknown operation "${name}" (kmsd call --help lists them)`);
  const text = parsed.positionals[1] === '-' ? (await readInput('-')).toString('utf8') : (parsed.positionals[1] ?? '{}');
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the input is not JSON: ${(error as Error).message}`);
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new UsageError('the input must be a JSON object');
  const answer = await connect(parsed.flags).call(name, input as Record<string, unknown>);
  if (answer === undefined) return;
  emit(output, answer, () => JSON.stringify(answer, null, 2));
});
