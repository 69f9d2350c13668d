import type { FastifyRequest } from 'fastify';
import type { SignableRequest } from '../auth/signature.ts';

/** What the signature check needs of a received request: method, URL, headers, raw body. */
export function signable(request: FastifyRequest): SignableRequest {
  const headers = request.headers;
  return {
    method: request.method,
    url: request.url,
    header: (name) => {
      const value = headers[name];
      return Array.isArray(value) ? value.join(',') : value;
    },
    body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
  };
}
