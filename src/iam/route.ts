import type { FastifyRequest } from 'fastify';
import type { Services } from '../api/services.ts';
import type { Authenticator } from '../auth/authenticate.ts';

/** An IAM endpoint (Keystone-style /v3 API): it answers with a status, headers and a body. */
export interface IamRoute {
  method: 'GET' | 'POST';
  url: string;
  handle(input: { services: Services; authenticator: Authenticator; request: FastifyRequest }): Promise<IamResult>;
}

export interface IamResult {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}
