import type { FastifyRequest } from 'fastify';
import type { Services } from '../api/services.ts';
import type { Authenticator } from '../auth/authenticate.ts';
import type { LoginGuard } from '../auth/login-guard.ts';
import type { RefusalRecorder } from '../api/audit.ts';

/** An IAM endpoint (Keystone-style /v3 API): it answers with a status, headers and a body. */
export interface IamRoute {
  method: 'GET' | 'POST';
  url: string;
  handle(input: IamInput): Promise<IamResult>;
}

export interface IamInput {
  services: Services;
  authenticator: Authenticator;
  request: FastifyRequest;
  /** Where clients reach this server (--public-url, or the listening address). */
  publicUrl: string;
  /** The audit trail's recorder of refusals (bounded per source address). */
  refusals: RefusalRecorder;
  logins: LoginGuard;
}

export interface IamResult {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}
