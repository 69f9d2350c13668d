import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { packageRoot } from '../package-root.ts';
import { ASSETS, assetBytes, assetNames, inSingleExecutable } from '../single-executable/assets.ts';

/**
 * The web console at /_kmsd/console/: the files `npm run build:console` wrote to console/dist,
 * read once (at its first request) and served with a strict Content-Security-Policy. The console is a page of
 * the public API (it signs in through /v3/auth/tokens and calls the KMS and CTS operations);
 * nothing here reads the store.
 */
export const CONSOLE_PATH = '/_kmsd/console/';

/** console/dist in the package; null in the single executable, which carries the files as assets. */
const DIST = inSingleExecutable ? null : join(packageRoot(import.meta.url), 'console', 'dist');

/** Only its own scripts, styles and API; no inline code, no eval, not framed, no referrer. */
export const CONSOLE_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

export const CONSOLE_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

interface Asset {
  type: string;
  body: Buffer;
}

/** The built files, by name; none when the console was not built. */
function loadAssets(dir: string | null): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (dir === null) {
    for (const key of assetNames(ASSETS.consolePrefix)) {
      const name = key.slice(ASSETS.consolePrefix.length);
      const type = TYPES[extname(name)];
      const body = assetBytes(key);
      if (type && body) assets.set(name, { type, body });
    }
    return assets;
  }
  if (!existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (type) assets.set(name, { type, body: readFileSync(join(dir, name)) });
  }
  return assets;
}

const NOT_BUILT = Buffer.from(
  '<!doctype html><meta charset="utf-8"><title>kmsd console</title><p>The console is not built: run <code>npm run build:console</code> (npm install does it) and restart kmsd.</p>\n',
);

export function registerConsole(app: FastifyInstance, dir: string | null = DIST): void {
  // Read at the console's first request, not at start (a server that never shows it never reads it).
  let loaded: Map<string, Asset> | null = null;
  const assets = { get: (name: string) => (loaded ??= loadAssets(dir)).get(name) };
  const send = (reply: import('fastify').FastifyReply, status: number, asset: Asset) =>
    reply.code(status).headers(CONSOLE_HEADERS).type(asset.type).send(asset.body);
  // The router ignores trailing slashes: /_kmsd/console and /_kmsd/console/ reach the same
  // route, and only the second is the page (relative asset URLs resolve against it).
  app.get(CONSOLE_PATH, (request, reply) => {
    if (!request.url.split('?')[0].endsWith('/')) return reply.code(301).header('Location', CONSOLE_PATH).send();
    const index = assets.get('index.html');
    return index ? send(reply, 200, index) : send(reply, 503, { type: TYPES['.html'], body: NOT_BUILT });
  });
  // Browsers ask every origin for /favicon.ico (the console's page names its own icon, but other
  // pages, such as a JSON answer opened in a tab, do not): the console's icon, not the
  // version route's 400.
  app.get('/favicon.ico', (_request, reply) => {
    const icon = assets.get('favicon.svg');
    if (!icon) return reply.code(404).headers(CONSOLE_HEADERS).type('text/plain; charset=utf-8').send('Not found\n');
    return send(reply, 200, icon);
  });
  app.get(`${CONSOLE_PATH}:file`, (request, reply) => {
    const asset = assets.get((request.params as { file: string }).file);
    if (!asset) return send(reply, 404, { type: 'text/plain; charset=utf-8', body: Buffer.from('Not found\n') });
    return send(reply, 200, asset);
  });
}
