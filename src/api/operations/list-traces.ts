import { requireAction } from '../../core/access.ts';
import { DECISIONS } from '../../core/decisions.ts';
import { kms } from '../../core/errors.ts';
import type { AuditOutcome } from '../../core/model.ts';
import { listTraces, operationOfTrace, ratingOf, refusalBody, traceName, type Trace } from '../../core/traces.ts';
import { F, type Field } from '../fields.ts';
import { arr, defineOperation, int, obj, str } from '../operation.ts';
import { CSMS_OPERATIONS } from './csms/index.ts';

/**
 * ListTraces of Huawei's Cloud Trace Service (CTS v3), serving kmsd's audit trail: the web
 * console reads it, and so can any CTS client pointed at kmsd. Only management traces exist
 * (trace_type=system); data traces (trace_type=data) are an empty list. The request and query
 * names and the trace fields are those of the SDK models (ListTracesRequest, Traces, UserInfo,
 * MetaData); traces come newest first, `next` is the `marker` of the previous page.
 */
const filter = (pattern: string): Field => ({ schema: { type: 'string', pattern }, code: 'KMS.0308' });
const MS = '^[0-9]{1,15}$';

/** At most 200 traces a page, 10 when not said (as CTS). */
const MAX_TRACES = 200;
const DEFAULT_TRACES = 10;

const USER_SCHEMA = obj({ id: str, name: str, domain: obj({ id: str, name: str }) });
const TRACE_SCHEMA = obj({
  resource_id: str, trace_name: str, trace_rating: str, trace_type: str, request: str, response: str, code: str,
  api_version: str, message: str, record_time: int, trace_id: str, time: int, user: USER_SCHEMA, service_type: str,
  resource_type: str, resource_name: str, request_id: str,
});

const OUTCOMES: Record<string, AuditOutcome[]> = { normal: ['allowed'], warning: ['denied', 'failed'], incident: [] };

/** The CSMS operations' names (read when serving, after every module has loaded). */
let csmsNames: readonly string[] | null = null;
const csmsOperations = (): readonly string[] => (csmsNames ??= CSMS_OPERATIONS.map((op) => op.name));

function traceView({ event, userName, accountName }: Trace): Record<string, unknown> {
  const secretId = event.secretId ?? null;
  const secretName = event.secretName ?? null;
  const identifiers = Object.fromEntries(
    Object.entries({ key_id: event.keyId, grant_id: event.grantId, sequence: event.sequence, secret_id: secretId, secret_name: secretName })
      .filter(([, v]) => v !== null),
  );
  // A request on a CSMS secret is a CSMS trace whose resource is the secret; any CSMS
  // operation's is a CSMS trace (one refused before it names a secret has no resource).
  const secret = secretId !== null || secretName !== null;
  const csms = secret || csmsOperations().includes(event.operation);
  return {
    trace_id: String(event.seq),
    trace_name: traceName(event.operation),
    trace_rating: ratingOf(event.outcome),
    trace_type: 'ApiCall',
    service_type: csms ? 'CSMS' : 'KMS',
    resource_type: secret ? 'secret' : event.keyId === null ? '' : 'cmk',
    resource_id: secret ? (secretId ?? '') : (event.keyId ?? ''),
    resource_name: secret ? (secretName ?? secretId ?? '') : (event.keyId ?? ''),
    request: JSON.stringify(identifiers),
    response: refusalBody(event.errorCode),
    code: String(event.status),
    api_version: csms ? 'v1' : 'v1.0',
    message: event.outcome,
    time: event.time,
    record_time: event.time,
    request_id: event.requestId,
    user: {
      id: event.userId ?? '',
      name: userName ?? '',
      domain: { id: event.accountId ?? '', name: accountName ?? '' },
    },
  };
}

export default defineOperation({
  name: 'list-traces',
  method: 'GET',
  path: '/v3/{project_id}/traces',
  query: ['trace_type', 'limit', 'from', 'to', 'next', 'trace_id', 'user', 'resource_id', 'trace_name', 'trace_rating', 'service_type'],
  // cts:trace:list as on Huawei Cloud; kms:trace:list is kmsd's own name for it, so that a KMS
  // administrator (kms:*:*) reads the trail of the KMS it administers.
  actions: ['cts:trace:list', 'kms:trace:list'],
  fields: {
    trace_type: { schema: { type: 'string', enum: ['system', 'data'] }, code: 'KMS.0308' },
    limit: F.limit,
    from: filter(MS),
    to: filter(MS),
    next: { schema: { type: 'string', pattern: MS }, code: 'KMS.1602' },
    trace_id: filter(MS),
    user: filter('^[a-zA-Z0-9]{1,64}$'),
    resource_id: filter('^[0-9a-zA-Z-]{1,64}$'),
    trace_name: filter('^[a-zA-Z][0-9a-zA-Z._-]{0,63}$'),
    trace_rating: { schema: { type: 'string', enum: ['normal', 'warning', 'incident'] }, code: 'KMS.0308' },
    service_type: filter('^[A-Za-z0-9]{1,32}$'),
  },
  required: ['trace_type'],
  // marker only while another page follows (CTS's ListTraces).
  response: obj({ traces: arr(TRACE_SCHEMA), meta_data: obj({ count: int, marker: str }, ['marker']) }),
  async handle({ store, caller }, input) {
    const limit = input.limit === undefined ? DEFAULT_TRACES : Number(input.limit);
    if (limit < 1 || limit > MAX_TRACES) throw kms('KMS.1601');
    requireAction(caller);
    const num = (name: string) => (input[name] === undefined ? undefined : Number(input[name]));
    const str = (name: string) => input[name] as string | undefined;
    const empty = { traces: [], meta_data: { count: 0 } };
    // kmsd's trail holds KMS traces and CSMS traces (those naming a secret); other services have none.
    const service = input.service_type as string | undefined;
    if (input.trace_type === 'data' || (service !== undefined && service !== 'KMS' && service !== 'CSMS')) return empty;
    const page = await store.read((tx) => listTraces(tx, caller, {
      limit, next: num('next'), traceId: num('trace_id'), from: num('from'), to: num('to'), user: str('user'), keyId: str('resource_id'),
      service: service === undefined ? undefined : { name: service as 'KMS' | 'CSMS', csmsOperations: csmsOperations() },
      operation: input.trace_name === undefined ? undefined : operationOfTrace(input.trace_name as string),
      outcomes: input.trace_rating === undefined ? undefined : OUTCOMES[input.trace_rating as string],
    }));
    const traces = page.traces.map(traceView);
    return { traces, meta_data: page.marker === null ? { count: traces.length } : { count: traces.length, marker: page.marker } };
  },
});
