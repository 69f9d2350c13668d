import { parseArgs } from 'node:util';
import { EXIT, UsageError, failure } from './connect.ts';

export const HEALTH_HELP = `usage: kmsd health [--endpoint URL] [--timeout MS]
  asks a running kmsd whether it is alive (GET /_kmsd/health): exit 0 and "ok" when it answers 2xx,
  else exit 4 (unreachable, or any other answer). The container image's health check runs it.
  --endpoint URL   KMSD_ENDPOINT, else http://127.0.0.1:<KMSD_PORT or 8080>
  --timeout MS     default 3000`;

/**
 * `kmsd health`: a health probe that needs no other program (the container image has no curl
 * or wget; its HEALTHCHECK runs this). It sends no credentials: /_kmsd/health needs none.
 */
export async function health(argv: string[], env: Record<string, string | undefined> = process.env): Promise<void> {
  try {
    let values: { endpoint?: string; timeout?: string };
    try {
      values = parseArgs({ args: argv, options: { endpoint: { type: 'string' }, timeout: { type: 'string' } }, strict: true, allowPositionals: false }).values;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const endpoint = values.endpoint ?? env.KMSD_ENDPOINT ?? `http://127.0.0.1:${env.KMSD_PORT ?? '8080'}`;
    const timeout = Number(values.timeout ?? '3000');
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 600_000) throw new UsageError(`--timeout must be a whole number of milliseconds from 1 to 600000, got "${values.timeout}"`);
    let url: URL;
    try {
      url = new URL('/_kmsd/health', endpoint);
    } catch {
      throw new UsageError(`--endpoint must be a URL, got "${endpoint}"`);
    }
    let status: number;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(timeout) });
      status = response.status;
      await response.body?.cancel();
    } catch (error) {
      process.stderr.write(`kmsd: ${url.href} is unreachable: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}\n`);
      process.exitCode = EXIT.unreachable;
      return;
    }
    if (status >= 200 && status < 300) {
      process.stdout.write('ok\n');
      return;
    }
    process.stderr.write(`kmsd: ${url.href} answered HTTP ${status}\n`);
    process.exitCode = EXIT.unreachable;
  } catch (error) {
    process.exitCode = failure(error);
  }
}
