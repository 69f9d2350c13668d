import { IAM_ROUTES } from '../iam/routes.ts';
import { pathOf, pathParams, statusOf, type Operation } from './operation.ts';
import { OPERATIONS } from './routes.ts';

/**
 * The OpenAPI 3.1 document of everything kmsd serves, generated from the operation
 * definitions (paths, parameters, body and answer schemas, the IAM actions, each field's KMS
 * error code), plus the IAM endpoints, the version documents and this document itself.
 * Served at GET /openapi.json and written by `kmsd openapi`.
 */

type Schema = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const answer = (description: string, schema: Schema) => ({ description, content: json(schema) });

const KMS_ERROR: Schema = {
  type: 'object',
  description: 'A KMS refusal; error_msg is the exact message of the code.',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['error_code', 'error_msg'],
      properties: { error_code: { type: 'string', pattern: '^KMS\\.[0-9]{4}$', examples: ['KMS.0207'] }, error_msg: { type: 'string', examples: ['The key does not exist.'] } },
    },
  },
};
const GATEWAY_ERROR: Schema = {
  type: 'object',
  description: "The API gateway's refusal (authentication 401 APIGW.0301, throttling 429 APIGW.0308), in its flat shape.",
  required: ['error_code', 'error_msg', 'request_id'],
  properties: { error_code: { type: 'string', examples: ['APIGW.0301'] }, error_msg: { type: 'string' }, request_id: { type: 'string' } },
};
const CSMS_ERROR: Schema = {
  type: 'object',
  description: 'A CSMS (secrets) refusal, flat; error_msg is the exact message of the code.',
  required: ['error_code', 'error_msg'],
  properties: { error_code: { type: 'string', pattern: '^CSMS\\.[0-9]{4}$', examples: ['CSMS.0005'] }, error_msg: { type: 'string', examples: ['The resource does not exist.'] } },
};
const IAM_ERROR: Schema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', properties: { code: { type: 'integer' }, title: { type: 'string' }, message: { type: 'string' } } } },
};
const TOKEN: Schema = {
  type: 'object',
  properties: {
    token: {
      type: 'object',
      properties: {
        methods: { type: 'array', items: { type: 'string' } },
        expires_at: { type: 'string' },
        issued_at: { type: 'string' },
        user: { type: 'object' },
        domain: { type: 'object' },
        project: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, domain: { type: 'object' } } },
        catalog: { type: 'array', items: { type: 'object' } },
        roles: { type: 'array', items: { type: 'object' } },
      },
    },
  },
};
const VERSION: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, links: { type: 'array', items: { type: 'object' } }, version: { type: 'string' },
    status: { type: 'string' }, updated: { type: 'string' }, min_version: { type: 'string' },
  },
};

const KMS_ERRORS = {
  400: answer('Bad request (KMS.02xx, field errors)', ref('KmsError')),
  401: answer('Authentication failed (APIGW.0301)', ref('GatewayError')),
  403: answer('Not allowed (KMS.0306, KMS.0321, ...)', ref('KmsError')),
  404: answer('No such resource (KMS.0207, ...)', ref('KmsError')),
  405: answer('Method not allowed (KMS.0215)', ref('KmsError')),
  429: answer('Throttled (APIGW.0308)', ref('GatewayError')),
  500: answer('Internal error (KMS.0103)', ref('KmsError')),
};
const CSMS_ERRORS = {
  400: answer('Bad request (CSMS.0002, CSMS.0004, CSMS.0103, CSMS.0401, ...)', ref('CsmsError')),
  401: answer('Authentication failed (APIGW.0301)', ref('GatewayError')),
  403: answer('Not allowed (CSMS.0302)', ref('CsmsError')),
  404: answer('No such secret, version, stage or tag (CSMS.0005)', ref('CsmsError')),
  429: answer('Throttled (APIGW.0308)', ref('GatewayError')),
  500: answer('Internal error (CSMS.0001)', ref('CsmsError')),
};
const SECURITY = [{ XAuthToken: [] }, { SdkHmacSha256: [] }];

const camel = (name: string) => name.replace(/[-_]([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** A field's schema, with the KMS error code a bad value gets. */
const fieldSchema = (op: Operation, name: string): Schema => ({ ...op.fields[name].schema, 'x-kms-error-code': op.fields[name].code });

function operationDocument(op: Operation): Schema {
  const inPath = pathParams(op);
  const inQuery = op.query ?? [];
  const parameters = [
    { name: 'project_id', in: 'path', required: true, description: 'The IAM project id', schema: { type: 'string' } },
    ...inPath.map((name) => ({ name, in: 'path', required: true, schema: fieldSchema(op, name) })),
    ...inQuery.map((name) => ({ name, in: 'query', required: op.required.includes(name), schema: fieldSchema(op, name) })),
  ].filter((p) => pathOf(op).includes(`{${p.name}}`) || p.in === 'query');
  const bodyFields = Object.keys(op.fields).filter((name) => !inPath.includes(name) && !inQuery.includes(name));
  const hasBody = op.method === 'POST' || op.method === 'PUT';
  const body: Schema = {
    type: 'object',
    properties: Object.fromEntries(bodyFields.map((name) => [name, fieldSchema(op, name)])),
    required: op.required.filter((name) => bodyFields.includes(name)),
  };
  return {
    operationId: camel(op.name),
    summary: op.name,
    description: op.service === 'csms'
      ? `IAM actions: ${op.actions.join(', ')}. A missing or bad field is CSMS.0002 (x-kms-error-code).`
      : `IAM actions: ${op.actions.join(', ')}. A missing required field is KMS.0204; a bad value gets its field's x-kms-error-code.`,
    'x-iam-actions': [...op.actions],
    ...(parameters.length > 0 && { parameters }),
    ...(hasBody && { requestBody: { required: true, content: json(body) } }),
    responses: {
      ...(statusOf(op) === 204 ? { 204: { description: 'Done (no body)' } } : { [statusOf(op)]: answer(statusOf(op) === 201 ? 'Created' : 'Success', op.response) }),
      ...(op.service === 'csms' ? CSMS_ERRORS : KMS_ERRORS),
    },
    security: SECURITY,
  };
}

/** The IAM endpoints kmsd serves, by method and path. */
const IAM_DOCS: Record<string, Schema> = {
  'POST /v3/auth/tokens': {
    operationId: 'createToken',
    summary: 'Password (or token) authentication; the token is in the X-Subject-Token header, valid 24 h',
    parameters: [{ name: 'nocatalog', in: 'query', required: false, schema: { type: 'string' } }],
    requestBody: {
      required: true,
      content: json({
        type: 'object',
        required: ['auth'],
        properties: {
          auth: {
            type: 'object',
            required: ['identity'],
            properties: {
              identity: {
                type: 'object',
                required: ['methods'],
                properties: {
                  methods: { type: 'array', items: { type: 'string', enum: ['password', 'token'] } },
                  password: {
                    type: 'object',
                    properties: { user: { type: 'object', properties: { name: { type: 'string' }, id: { type: 'string' }, password: { type: 'string' }, domain: { type: 'object', properties: { name: { type: 'string' }, id: { type: 'string' } } } } } },
                  },
                  token: { type: 'object', properties: { id: { type: 'string' } } },
                },
              },
              scope: { type: 'object', properties: { project: { type: 'object' }, domain: { type: 'object' } } },
            },
          },
        },
      }),
    },
    responses: {
      201: { description: 'Created', headers: { 'X-Subject-Token': { schema: { type: 'string' } } }, content: json(ref('Token')) },
      400: answer('Bad request', ref('IamError')),
      401: answer('Wrong credentials', ref('IamError')),
    },
    security: [],
  },
  'GET /v3/auth/tokens': {
    operationId: 'validateToken',
    summary: 'Validates the token in X-Subject-Token',
    parameters: [{ name: 'X-Subject-Token', in: 'header', required: true, schema: { type: 'string' } }],
    responses: {
      200: { description: 'The token', headers: { 'X-Subject-Token': { schema: { type: 'string' } } }, content: json(ref('Token')) },
      400: answer('Bad request', ref('IamError')),
      401: answer('Authentication failed', ref('GatewayError')),
      404: answer('No such token', ref('IamError')),
    },
    security: SECURITY,
  },
  'GET /v3/projects': {
    operationId: 'listProjects',
    summary: "The caller's projects (the SDKs' project lookup by region name)",
    parameters: [{ name: 'name', in: 'query', required: false, schema: { type: 'string' } }],
    responses: {
      200: answer('The projects', {
        type: 'object',
        properties: {
          projects: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, domain_id: { type: 'string' } } } },
          links: { type: 'object' },
        },
      }),
      401: answer('Authentication failed', ref('GatewayError')),
    },
    security: SECURITY,
  },
  'GET /v3/users': {
    operationId: 'keystoneListUsers',
    summary: "The caller's account's IAM users (KeystoneListUsers; needs iam:users:listUsers)",
    parameters: ['domain_id', 'name', 'enabled', 'password_expires_at'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
    responses: {
      200: answer('The users', {
        type: 'object',
        required: ['users', 'links'],
        properties: {
          users: {
            type: 'array',
            items: {
              type: 'object',
              required: ['id', 'name', 'domain_id', 'enabled'],
              properties: {
                id: { type: 'string' }, name: { type: 'string' }, domain_id: { type: 'string' }, enabled: { type: 'boolean' },
                description: { type: 'string' }, password_expires_at: { type: ['string', 'null'] }, pwd_status: { type: 'boolean' },
              },
            },
          },
          links: { type: 'object' },
        },
      }),
      400: answer('A bad filter', ref('IamError')),
      401: answer('Authentication failed', ref('GatewayError')),
      403: answer('The caller may not list users (iam:users:listUsers), or names another account', ref('IamError')),
    },
    security: SECURITY,
  },
  // Open Telekom Cloud's clients (docs/otc.md): keystoneauth's discovery, --my-projects, the AK/SK catalog.
  'GET /v3': {
    operationId: 'showIdentityVersion',
    summary: 'The Keystone v3 version document (version discovery)',
    responses: { 200: answer('The version', { type: 'object', properties: { version: { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string' }, updated: { type: 'string' }, 'media-types': { type: 'array', items: { type: 'object' } }, links: { type: 'array', items: { type: 'object' } } } } } }) },
    security: [],
  },
  'GET /v3/users/:user_id/projects': {
    operationId: 'listUserProjects',
    summary: "The projects of the caller's own user (openstack project list --my-projects)",
    parameters: [{ name: 'user_id', in: 'path', required: true, schema: { type: 'string' } }],
    responses: {
      200: answer('The projects', {
        type: 'object',
        properties: {
          projects: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, domain_id: { type: 'string' } } } },
          links: { type: 'object' },
        },
      }),
      401: answer('Authentication failed', ref('GatewayError')),
      403: answer('Another user', ref('IamError')),
    },
    security: SECURITY,
  },
  'GET /v3/auth/catalog': {
    operationId: 'showCatalog',
    summary: 'The service catalog (kms, kmsv1, identity) of the caller\'s project',
    responses: {
      200: answer('The catalog', { type: 'object', properties: { catalog: { type: 'array', items: { type: 'object' } }, links: { type: 'object' } } }),
      401: answer('Authentication failed', ref('GatewayError')),
    },
    security: SECURITY,
  },
  'GET /v3/projects/:project_id': {
    operationId: 'showProject',
    summary: "A project of the caller's account (where a project's links.self points; openstack project show)",
    parameters: [{ name: 'project_id', in: 'path', required: true, schema: { type: 'string' } }],
    responses: {
      200: answer('The project', {
        type: 'object',
        properties: { project: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, domain_id: { type: 'string' }, links: { type: 'object' } } } },
      }),
      401: answer('Authentication failed', ref('GatewayError')),
      404: answer("Not a project of the caller's account", ref('IamError')),
    },
    security: SECURITY,
  },
};

const toOpenApiPath = (url: string) => url.replace(/:([a-z_]+)/g, '{$1}');

export function openApiDocument(): Schema {
  const paths: Record<string, Record<string, Schema>> = {};
  const add = (path: string, method: string, doc: Schema) => {
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = doc;
  };
  for (const op of OPERATIONS) add(pathOf(op), op.method, operationDocument(op));
  for (const route of IAM_ROUTES) {
    const doc = IAM_DOCS[`${route.method} ${route.url}`];
    if (!doc) throw new Error(`openapi: no document for ${route.method} ${route.url}`);
    add(toOpenApiPath(route.url), route.method, doc);
  }
  add('/', 'GET', { operationId: 'listVersions', summary: 'The API versions', responses: { 200: answer('Versions', { type: 'object', properties: { versions: { type: 'array', items: VERSION } } }) }, security: [] });
  add('/{version_id}', 'GET', {
    operationId: 'showVersion',
    summary: 'One API version (v1.0)',
    parameters: [{ name: 'version_id', in: 'path', required: true, schema: { type: 'string', enum: ['v1.0'] } }],
    responses: { 200: answer('The version', { type: 'object', properties: { version: VERSION } }), 400: answer('Unknown version (KMS.0201)', ref('KmsError')) },
    security: [],
  });
  add('/openapi.json', 'GET', { operationId: 'openApiDocument', summary: 'This document', responses: { 200: answer('OpenAPI 3.1', { type: 'object' }) }, security: [] });
  return {
    openapi: '3.1.0',
    info: {
      title: 'kmsd: Huawei Cloud KMS v1.0 API',
      version: 'v1.0',
      description: 'Generated from kmsd\'s operation definitions. Numbers typed as strings also accept JSON numbers; "" means "not given".',
    },
    servers: [
      { url: 'http://127.0.0.1:8080', description: 'kmsd' },
      { url: 'https://kms.{region}.myhuaweicloud.com', description: 'Huawei Cloud KMS', variables: { region: { default: 'cn-north-4' } } },
    ],
    security: SECURITY,
    paths,
    components: {
      schemas: { KmsError: KMS_ERROR, CsmsError: CSMS_ERROR, GatewayError: GATEWAY_ERROR, IamError: IAM_ERROR, Token: TOKEN },
      securitySchemes: {
        XAuthToken: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'An IAM token from POST /v3/auth/tokens' },
        SdkHmacSha256: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'AK/SK: "SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<names>, Signature=<hex>" over the canonical request, with X-Sdk-Date (within 15 minutes) among the signed headers',
        },
      },
    },
  };
}
