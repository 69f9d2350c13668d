import { KMS_ERRORS } from './error-table.ts';

export type KmsErrorCode = keyof typeof KMS_ERRORS;

/**
 * A user error with a documented KMS code. Core rules throw these; the one error
 * handler at the edge renders them as {"error":{"error_code","error_msg"}} with the
 * status of the table. The message always comes from the table, never from the thrower.
 */
export class KmsError extends Error {
  readonly code: KmsErrorCode;
  readonly status: number;
  constructor(code: KmsErrorCode) {
    const [status, message] = KMS_ERRORS[code];
    super(message);
    this.code = code;
    this.status = status;
  }
  /** `nodeSdkFields` adds code/message, which the Node.js SDK reads (see Config.nodeSdkErrorFields). */
  body(nodeSdkFields = false): { error: Record<string, string> } {
    const error: Record<string, string> = { error_code: this.code, error_msg: this.message };
    if (nodeSdkFields) Object.assign(error, { code: this.code, message: this.message });
    return { error };
  }
}

/**
 * An authentication failure, answered as the API gateway does: 401 with a flat body.
 * `detail` is what the gateway prints after its fixed prefix; it never carries secrets.
 */
export class AuthError extends Error {
  readonly status = 401;
  readonly detail: string;
  constructor(detail: string) {
    super(`Incorrect IAM authentication information: ${detail}`);
    this.detail = detail;
  }
  body(requestId: string): { error_msg: string; error_code: string; request_id: string } {
    return { error_msg: this.message, error_code: 'APIGW.0301', request_id: requestId };
  }
}

/** Errors of the IAM endpoints (/v3/...), in Keystone's shape, which both SDKs parse. */
export class IamError extends Error {
  readonly status: number;
  readonly title: string;
  constructor(status: 400 | 401 | 403 | 404 | 405, message: string) {
    super(message);
    this.status = status;
    this.title = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' }[status];
  }
  body(): { error: { code: number; title: string; message: string } } {
    return { error: { code: this.status, title: this.title, message: this.message } };
  }
}

export function kms(code: KmsErrorCode): KmsError {
  return new KmsError(code);
}
