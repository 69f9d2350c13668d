/**
 * A refusal by the server: KMS's {"error":{"error_code","error_msg"}}, the API gateway's flat
 * {"error_code","error_msg","request_id"}, or IAM's {"error":{"code","title","message"}}.
 */
export class KmsError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** KMS.xxxx, APIGW.xxxx, the IAM error code, or the HTTP status when the body has none. */
  readonly code: string;
  /** X-Request-Id of the answer (or the gateway body's request_id); "" when absent. */
  readonly requestId: string;
  /** The parsed body, or the text when it is not JSON. */
  readonly body: unknown;
  constructor(status: number, code: string, message: string, requestId: string, body: unknown) {
    super(message);
    this.name = 'KmsError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.body = body;
  }

  static from(status: number, text: string, requestId: string | null): KmsError {
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the text is the message
    }
    const found = findError(body);
    const id = requestId ?? (isObject(body) && typeof body.request_id === 'string' ? body.request_id : '');
    if (found) return new KmsError(status, found.code, found.message, id, body);
    return new KmsError(status, String(status), text.trim() === '' ? `HTTP ${status}` : text.trim().slice(0, 500), id, body);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** error_code/error_msg (or code/message), at the top or in a nested object, as the Python SDK looks for them. */
function findError(body: unknown): { code: string; message: string } | null {
  if (!isObject(body)) return null;
  for (const [code, message] of [['error_code', 'error_msg'], ['errorCode', 'errorMsg'], ['code', 'message']]) {
    if (body[code] !== undefined && body[message] !== undefined) return { code: String(body[code]), message: String(body[message]) };
  }
  for (const value of Object.values(body)) {
    const nested = findError(value);
    if (nested) return nested;
  }
  return null;
}

/** The server could not be reached, or did not answer in time. */
export class KmsConnectionError extends Error {
  readonly url: string;
  readonly timedOut: boolean;
  constructor(url: string, message: string, timedOut: boolean, cause?: unknown) {
    super(message, { cause });
    this.name = 'KmsConnectionError';
    this.url = url;
    this.timedOut = timedOut;
  }
}
