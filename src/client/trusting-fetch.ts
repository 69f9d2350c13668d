import { Agent, request } from 'node:https';

/**
 * A fetch for https:// URLs that trusts the given certificate authorities (PEM) instead of
 * Node's built-in list: a kmsd whose certificate a private CA signed, or a self-signed
 * development certificate (give the certificate itself). Node's global fetch has no option
 * for that (only NODE_EXTRA_CA_CERTS, for the whole process), so requests go through
 * node:https with an agent of their own; http:// URLs go to the global fetch.
 */
export function fetchTrusting(ca: string | Uint8Array): typeof fetch {
  const agent = new Agent({ ca: typeof ca === 'string' ? ca : Buffer.from(ca), keepAlive: true, minVersion: 'TLSv1.2' });
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:') return fetch(input, init);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const body = init.body === undefined || init.body === null ? undefined : Buffer.from(init.body as string);
    if (body) headers['content-length'] = String(body.length);
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, { method: init.method ?? 'GET', headers, agent, signal: init.signal ?? undefined }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const answer = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : [value ?? '']) answer.append(name, v);
          }
          const status = res.statusCode ?? 0;
          // A Response may carry no body with these statuses.
          const empty = status === 204 || status === 205 || status === 304;
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers: answer }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  };
}
