import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openApiDocument } from '../api/openapi.ts';
import { UsageError, failure } from './connect.ts';

export const OPENAPI_HELP = `usage: kmsd openapi [--out FILE]
  writes the OpenAPI 3.1 document of the API kmsd serves (as GET /openapi.json serves it), indented`;

/** `kmsd openapi`: the document, generated from the operation definitions. */
export async function openapi(argv: string[]): Promise<void> {
  try {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${OPENAPI_HELP}\n`);
      return;
    }
    let out: string | undefined;
    try {
      out = parseArgs({ args: argv, options: { out: { type: 'string' } }, strict: true, allowPositionals: false }).values.out;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const text = `${JSON.stringify(openApiDocument(), null, 2)}\n`;
    if (out === undefined || out === '-') process.stdout.write(text);
    else writeFileSync(out, text);
  } catch (error) {
    process.exitCode = failure(error);
  }
}
