import { CSMS_ERRORS, KMS_ERRORS } from './error-table.ts';

export type CsmsErrorCode = keyof typeof CSMS_ERRORS;
export type KmsErrorCode = keyof typeof KMS_ERRORS | CsmsErrorCode;

const ERROR_TABLE: Record<KmsErrorCode, readonly [number, string]> = { ...KMS_ERRORS, ...CSMS_ERRORS };

/** CSMS codes (secrets) render flat, as CSMS answers them; KMS codes nested. */
export const isCsmsCode = (code: string): code is CsmsErrorCode => code.startsWith('CSMS.');

/**
 * A user error with a documented KMS code. Core rules throw these; the one error
 * handler at the edge renders them as {"error":{"error_code","error_msg"}} with the
 * status of the table. The message always comes from the table, never from the thrower.
 */
export class KmsError extends Error {
  readonly code: KmsErrorCode;
  readonly status: number;
  constructor(code: KmsErrorCode) {
    const [status, message] = ERROR_TABLE[code];
    super(message);
    this.code = code;
    this.status = status;
  }
  /**
   * `nodeSdkFields` adds code/message, which the Node.js SDK reads (see Config.nodeSdkErrorFields).
   * A CSMS error is flat: {"error_code", "error_msg"} (DECISIONS.csmsErrorBody).
   */
  body(nodeSdkFields = false): { error: Record<string, string> } | Record<string, string> {
    const error: Record<string, string> = { error_code: this.code, error_msg: this.message };
    if (nodeSdkFields) Object.assign(error, { code: this.code, message: this.message });
    return isCsmsCode(this.code) ? error : { error };
  }
}

/**
 * A refusal of the API gateway in front of KMS, in its flat shape:
 * {"error_msg", "error_code", "request_id"} (reference §1.4, §9.5).
 */
export class GatewayError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
  body(requestId: string): { error_msg: string; error_code: string; request_id: string } {
    return { error_msg: this.message, error_code: this.code, request_id: requestId };
  }
}

/** An authentication failure: 401 APIGW.0301. `detail` never carries secrets. */
export class AuthError extends GatewayError {
  readonly detail: string;
  constructor(detail: string) {
    super(401, 'APIGW.0301', `Incorrect IAM authentication information: ${detail}`);
    this.detail = detail;
  }
}

/** Too many requests for one access key (or token user) in one second: 429 APIGW.0308, the gateway's own words. */
export class ThrottledError extends GatewayError {
  /** The per-second budget refills within a second: the `Retry-After` header's value. */
  readonly retryAfterSeconds = 1;
  constructor(limit: number) {
    super(429, 'APIGW.0308', `The throttling threshold has been reached: policy user over ratelimit,limit:${limit},time:1 second`);
  }
}

/** Errors of the IAM endpoints (/v3/...), in Keystone's shape, which both SDKs parse. */
export class IamError extends Error {
  readonly status: number;
  readonly title: string;
  /** With a 429: when a retry may succeed, sent as `Retry-After` (seconds). */
  readonly retryAfterSeconds: number | undefined;
  constructor(status: 400 | 401 | 403 | 404 | 405 | 429 | 503, message: string, retryAfterSeconds?: number) {
    super(message);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
    this.title = {
      400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 429: 'Too Many Requests', 503: 'Service Unavailable',
    }[status];
  }
  body(): { error: { code: number; title: string; message: string } } {
    return { error: { code: this.status, title: this.title, message: this.message } };
  }
}

export function kms(code: KmsErrorCode): KmsError {
  return new KmsError(code);
}
