import type { FastifyRequest } from 'fastify';
import type { Services } from '../api/services.ts';
import type { Authenticator } from '../auth/authenticate.ts';
import type { LoginGuard } from '../auth/login-guard.ts';
import type { AuditDraft, RefusalRecorder } from '../api/audit.ts';
import type { Principal } from '../auth/authenticate.ts';

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
  /**
   * Names the request's caller and operation once it is authenticated: its access line then
   * shows them as a KMS request's does. Returns the audit draft of the request.
   */
  identified(operation: string, principal: Principal): AuditDraft;
}

export interface IamResult {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}
