// Generated from the operation definitions (src/api/routes.ts OPERATIONS) by src/client/generate.ts:
// `npm run generate:client` rewrites it. Do not edit by hand.

import type { CallOptions } from './types.ts';

/** Input of POST /v1.0/{project_id}/kms/create-key: body, query and path fields. */
export interface CreateKeyRequest {
  key_alias: string;
  key_spec?: string;
  key_usage?: "ENCRYPT_DECRYPT" | "SIGN_VERIFY" | "GENERATE_VERIFY_MAC";
  key_description?: string;
  origin?: "kms" | "external";
  enterprise_project_id?: string;
  keystore_id?: string;
  sequence?: string;
}

/** Answer of create-key. */
export interface CreateKeyResponse {
  key_info?: {
    key_id?: string;
    domain_id?: string;
    region_id?: string;
  };
}

/** Input of POST /v1.0/{project_id}/kms/describe-key: body, query and path fields. */
export interface DescribeKeyRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of describe-key. */
export interface DescribeKeyResponse {
  key_info?: {
    key_id?: string;
    domain_id?: string;
    key_alias?: string;
    realm?: string;
    key_spec?: string;
    key_usage?: string;
    key_description?: string;
    creation_date?: string;
    scheduled_deletion_date?: string;
    key_state?: string;
    default_key_flag?: string;
    key_type?: string;
    expiration_time?: string;
    origin?: string;
    key_rotation_enabled?: string;
    sys_enterprise_project_id?: string;
    keystore_id?: string;
  };
}

/** Input of POST /v1.0/{project_id}/kms/list-keys: body, query and path fields. */
export interface ListKeysRequest {
  limit?: string | number;
  marker?: string | number;
  key_state?: string;
  key_spec?: "AES_256" | "SM4" | "RSA_2048" | "RSA_3072" | "RSA_4096" | "EC_P256" | "EC_P384" | "SM2" | "ALL";
  enterprise_project_id?: string;
  sequence?: string;
}

/** Answer of list-keys. */
export interface ListKeysResponse {
  keys?: string[];
  key_details?: Array<{
    key_id?: string;
    domain_id?: string;
    key_alias?: string;
    realm?: string;
    key_spec?: string;
    key_usage?: string;
    key_description?: string;
    creation_date?: string;
    scheduled_deletion_date?: string;
    key_state?: string;
    default_key_flag?: string;
    key_type?: string;
    expiration_time?: string;
    origin?: string;
    key_rotation_enabled?: string;
    sys_enterprise_project_id?: string;
    keystore_id?: string;
  }>;
  next_marker?: string;
  truncated?: string;
  total?: number;
}

/** Input of POST /v1.0/{project_id}/kms/enable-key: body, query and path fields. */
export interface EnableKeyRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of enable-key. */
export interface EnableKeyResponse {
  key_info?: {
    key_id?: string;
    key_state?: string;
  };
}

/** Input of POST /v1.0/{project_id}/kms/disable-key: body, query and path fields. */
export interface DisableKeyRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of disable-key. */
export interface DisableKeyResponse {
  key_info?: {
    key_id?: string;
    key_state?: string;
  };
}

/** Input of POST /v1.0/{project_id}/kms/schedule-key-deletion: body, query and path fields. */
export interface ScheduleKeyDeletionRequest {
  key_id: string;
  pending_days: string | number;
  sequence?: string;
}

/** Answer of schedule-key-deletion. */
export interface ScheduleKeyDeletionResponse {
  key_id?: string;
  key_state?: string;
}

/** Input of POST /v1.0/{project_id}/kms/cancel-key-deletion: body, query and path fields. */
export interface CancelKeyDeletionRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of cancel-key-deletion. */
export interface CancelKeyDeletionResponse {
  key_id?: string;
  key_state?: string;
}

/** Input of POST /v1.0/{project_id}/kms/update-key-alias: body, query and path fields. */
export interface UpdateKeyAliasRequest {
  key_id: string;
  key_alias: string;
  sequence?: string;
}

/** Answer of update-key-alias. */
export interface UpdateKeyAliasResponse {
  key_info?: {
    key_id?: string;
    key_alias?: string;
  };
}

/** Input of POST /v1.0/{project_id}/kms/update-key-description: body, query and path fields. */
export interface UpdateKeyDescriptionRequest {
  key_id: string;
  key_description: string;
  sequence?: string;
}

/** Answer of update-key-description. */
export interface UpdateKeyDescriptionResponse {
  key_info?: {
    key_id?: string;
    key_description?: string;
  };
}

/** Input of GET /v1.0/{project_id}/kms/user-instances: body, query and path fields. */
export type UserInstancesRequest = Record<string, never>;

/** Answer of user-instances. */
export interface UserInstancesResponse {
  instance_num?: number;
}

/** Input of GET /v1.0/{project_id}/kms/user-quotas: body, query and path fields. */
export type UserQuotasRequest = Record<string, never>;

/** Answer of user-quotas. */
export interface UserQuotasResponse {
  quotas?: {
    resources?: Array<{
      type?: string;
      used?: number;
      quota?: number;
    }>;
  };
}

/** Input of POST /v1.0/{project_id}/kms/enable-key-rotation: body, query and path fields. */
export interface EnableKeyRotationRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of enable-key-rotation. */
export type EnableKeyRotationResponse = Record<string, never>;

/** Input of POST /v1.0/{project_id}/kms/disable-key-rotation: body, query and path fields. */
export interface DisableKeyRotationRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of disable-key-rotation. */
export type DisableKeyRotationResponse = Record<string, never>;

/** Input of POST /v1.0/{project_id}/kms/update-key-rotation-interval: body, query and path fields. */
export interface UpdateKeyRotationIntervalRequest {
  key_id: string;
  rotation_interval: number;
  sequence?: string;
}

/** Answer of update-key-rotation-interval. */
export type UpdateKeyRotationIntervalResponse = Record<string, never>;

/** Input of POST /v1.0/{project_id}/kms/get-key-rotation-status: body, query and path fields. */
export interface GetKeyRotationStatusRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of get-key-rotation-status. */
export interface GetKeyRotationStatusResponse {
  key_rotation_enabled?: boolean;
  rotation_interval?: number;
  last_rotation_time?: string;
  number_of_rotations?: number;
}

/** Input of POST /v1.0/{project_id}/kms/create-grant: body, query and path fields. */
export interface CreateGrantRequest {
  key_id: string;
  grantee_principal: string;
  operations: Array<"create-datakey" | "create-datakey-without-plaintext" | "encrypt-datakey" | "decrypt-datakey" | "describe-key" | "create-grant" | "retire-grant" | "encrypt-data" | "decrypt-data">;
  name?: string;
  retiring_principal?: string;
  grantee_principal_type?: "user" | "domain";
  sequence?: string;
}

/** Answer of create-grant. */
export interface CreateGrantResponse {
  grant_id?: string;
}

/** Input of POST /v1.0/{project_id}/kms/list-grants: body, query and path fields. */
export interface ListGrantsRequest {
  key_id: string;
  limit?: string | number;
  marker?: string | number;
  sequence?: string;
}

/** Answer of list-grants. */
export interface ListGrantsResponse {
  grants?: Array<{
    key_id?: string;
    grant_id?: string;
    grantee_principal?: string;
    grantee_principal_type?: string;
    operations?: string[];
    issuing_principal?: string;
    creation_date?: string;
    name?: string;
    retiring_principal?: string;
  }>;
  next_marker?: string;
  truncated?: string;
  total?: number;
}

/** Input of POST /v1.0/{project_id}/kms/list-retirable-grants: body, query and path fields. */
export interface ListRetirableGrantsRequest {
  limit?: string | number;
  marker?: string | number;
  sequence?: string;
}

/** Answer of list-retirable-grants. */
export interface ListRetirableGrantsResponse {
  grants?: Array<{
    key_id?: string;
    grant_id?: string;
    grantee_principal?: string;
    grantee_principal_type?: string;
    operations?: string[];
    issuing_principal?: string;
    creation_date?: string;
    name?: string;
    retiring_principal?: string;
  }>;
  next_marker?: string;
  truncated?: string;
  total?: number;
}

/** Input of POST /v1.0/{project_id}/kms/revoke-grant: body, query and path fields. */
export interface RevokeGrantRequest {
  key_id: string;
  grant_id: string;
  sequence?: string;
}

/** Answer of revoke-grant. */
export type RevokeGrantResponse = Record<string, never>;

/** Input of POST /v1.0/{project_id}/kms/retire-grant: body, query and path fields. */
export interface RetireGrantRequest {
  key_id: string;
  grant_id: string;
  sequence?: string;
}

/** Answer of retire-grant. */
export type RetireGrantResponse = Record<string, never>;

/** Input of POST /v1.0/{project_id}/kms/encrypt-data: body, query and path fields. */
export interface EncryptDataRequest {
  key_id: string;
  plain_text: string;
  encryption_algorithm?: "SYMMETRIC_DEFAULT" | "RSAES_OAEP_SHA_256" | "RSAES_OAEP_SHA_1" | "SM2_ENCRYPT";
  additional_authenticated_data?: string;
  encryption_context?: Record<string, string>;
  sequence?: string;
}

/** Answer of encrypt-data. */
export interface EncryptDataResponse {
  key_id?: string;
  cipher_text?: string;
}

/** Input of POST /v1.0/{project_id}/kms/decrypt-data: body, query and path fields. */
export interface DecryptDataRequest {
  cipher_text: string;
  key_id?: string;
  encryption_algorithm?: "SYMMETRIC_DEFAULT" | "RSAES_OAEP_SHA_256" | "RSAES_OAEP_SHA_1" | "SM2_ENCRYPT";
  additional_authenticated_data?: string;
  encryption_context?: Record<string, string>;
  sequence?: string;
}

/** Answer of decrypt-data. */
export interface DecryptDataResponse {
  key_id?: string;
  plain_text?: string;
  plain_text_base64?: string;
}

/** Input of POST /v1.0/{project_id}/kms/create-datakey: body, query and path fields. */
export interface CreateDatakeyRequest {
  key_id: string;
  key_spec?: string;
  datakey_length?: string | number;
  additional_authenticated_data?: string;
  encryption_context?: Record<string, string>;
  sequence?: string;
}

/** Answer of create-datakey. */
export interface CreateDatakeyResponse {
  key_id?: string;
  plain_text?: string;
  cipher_text?: string;
}

/** Input of POST /v1.0/{project_id}/kms/create-datakey-without-plaintext: body, query and path fields. */
export interface CreateDatakeyWithoutPlaintextRequest {
  key_id: string;
  key_spec?: string;
  datakey_length?: string | number;
  additional_authenticated_data?: string;
  encryption_context?: Record<string, string>;
  sequence?: string;
}

/** Answer of create-datakey-without-plaintext. */
export interface CreateDatakeyWithoutPlaintextResponse {
  key_id?: string;
  cipher_text?: string;
}

/** Input of POST /v1.0/{project_id}/kms/encrypt-datakey: body, query and path fields. */
export interface EncryptDatakeyRequest {
  key_id: string;
  plain_text: string;
  datakey_plain_length: string | number;
  additional_authenticated_data?: string;
  encryption_context?: Record<string, string>;
  sequence?: string;
}

/** Answer of encrypt-datakey. */
export interface EncryptDatakeyResponse {
  key_id?: string;
  cipher_text?: string;
  datakey_length?: string;
}

/** Input of POST /v1.0/{project_id}/kms/decrypt-datakey: body, query and path fields. */
export interface DecryptDatakeyRequest {
  key_id: string;
  cipher_text: string;
  datakey_cipher_length: string | number;
  additional_authenticated_data?: string;
  encryption_context?: Record<string, string>;
  sequence?: string;
}

/** Answer of decrypt-datakey. */
export interface DecryptDatakeyResponse {
  data_key?: string;
  datakey_length?: string;
  datakey_dgst?: string;
}

/** Input of POST /v1.0/{project_id}/kms/gen-random: body, query and path fields. */
export interface GenRandomRequest {
  random_data_length: string | number;
  sequence?: string;
}

/** Answer of gen-random. */
export interface GenRandomResponse {
  random_data?: string;
}

/** Every operation by name, with its input and answer. */
export interface Operations {
  "create-key": { request: CreateKeyRequest; response: CreateKeyResponse };
  "describe-key": { request: DescribeKeyRequest; response: DescribeKeyResponse };
  "list-keys": { request: ListKeysRequest; response: ListKeysResponse };
  "enable-key": { request: EnableKeyRequest; response: EnableKeyResponse };
  "disable-key": { request: DisableKeyRequest; response: DisableKeyResponse };
  "schedule-key-deletion": { request: ScheduleKeyDeletionRequest; response: ScheduleKeyDeletionResponse };
  "cancel-key-deletion": { request: CancelKeyDeletionRequest; response: CancelKeyDeletionResponse };
  "update-key-alias": { request: UpdateKeyAliasRequest; response: UpdateKeyAliasResponse };
  "update-key-description": { request: UpdateKeyDescriptionRequest; response: UpdateKeyDescriptionResponse };
  "user-instances": { request: UserInstancesRequest; response: UserInstancesResponse };
  "user-quotas": { request: UserQuotasRequest; response: UserQuotasResponse };
  "enable-key-rotation": { request: EnableKeyRotationRequest; response: EnableKeyRotationResponse };
  "disable-key-rotation": { request: DisableKeyRotationRequest; response: DisableKeyRotationResponse };
  "update-key-rotation-interval": { request: UpdateKeyRotationIntervalRequest; response: UpdateKeyRotationIntervalResponse };
  "get-key-rotation-status": { request: GetKeyRotationStatusRequest; response: GetKeyRotationStatusResponse };
  "create-grant": { request: CreateGrantRequest; response: CreateGrantResponse };
  "list-grants": { request: ListGrantsRequest; response: ListGrantsResponse };
  "list-retirable-grants": { request: ListRetirableGrantsRequest; response: ListRetirableGrantsResponse };
  "revoke-grant": { request: RevokeGrantRequest; response: RevokeGrantResponse };
  "retire-grant": { request: RetireGrantRequest; response: RetireGrantResponse };
  "encrypt-data": { request: EncryptDataRequest; response: EncryptDataResponse };
  "decrypt-data": { request: DecryptDataRequest; response: DecryptDataResponse };
  "create-datakey": { request: CreateDatakeyRequest; response: CreateDatakeyResponse };
  "create-datakey-without-plaintext": { request: CreateDatakeyWithoutPlaintextRequest; response: CreateDatakeyWithoutPlaintextResponse };
  "encrypt-datakey": { request: EncryptDatakeyRequest; response: EncryptDatakeyResponse };
  "decrypt-datakey": { request: DecryptDatakeyRequest; response: DecryptDatakeyResponse };
  "gen-random": { request: GenRandomRequest; response: GenRandomResponse };
}

/** One method per operation, and one paginator per operation that pages. */
export interface OperationMethods {
  /** POST /v1.0/{project_id}/kms/create-key */
  createKey(input: CreateKeyRequest, options?: CallOptions): Promise<CreateKeyResponse>;
  /** POST /v1.0/{project_id}/kms/describe-key */
  describeKey(input: DescribeKeyRequest, options?: CallOptions): Promise<DescribeKeyResponse>;
  /** POST /v1.0/{project_id}/kms/list-keys */
  listKeys(input?: ListKeysRequest, options?: CallOptions): Promise<ListKeysResponse>;
  /** POST /v1.0/{project_id}/kms/enable-key */
  enableKey(input: EnableKeyRequest, options?: CallOptions): Promise<EnableKeyResponse>;
  /** POST /v1.0/{project_id}/kms/disable-key */
  disableKey(input: DisableKeyRequest, options?: CallOptions): Promise<DisableKeyResponse>;
  /** POST /v1.0/{project_id}/kms/schedule-key-deletion */
  scheduleKeyDeletion(input: ScheduleKeyDeletionRequest, options?: CallOptions): Promise<ScheduleKeyDeletionResponse>;
  /** POST /v1.0/{project_id}/kms/cancel-key-deletion */
  cancelKeyDeletion(input: CancelKeyDeletionRequest, options?: CallOptions): Promise<CancelKeyDeletionResponse>;
  /** POST /v1.0/{project_id}/kms/update-key-alias */
  updateKeyAlias(input: UpdateKeyAliasRequest, options?: CallOptions): Promise<UpdateKeyAliasResponse>;
  /** POST /v1.0/{project_id}/kms/update-key-description */
  updateKeyDescription(input: UpdateKeyDescriptionRequest, options?: CallOptions): Promise<UpdateKeyDescriptionResponse>;
  /** GET /v1.0/{project_id}/kms/user-instances */
  userInstances(input?: UserInstancesRequest, options?: CallOptions): Promise<UserInstancesResponse>;
  /** GET /v1.0/{project_id}/kms/user-quotas */
  userQuotas(input?: UserQuotasRequest, options?: CallOptions): Promise<UserQuotasResponse>;
  /** POST /v1.0/{project_id}/kms/enable-key-rotation */
  enableKeyRotation(input: EnableKeyRotationRequest, options?: CallOptions): Promise<EnableKeyRotationResponse>;
  /** POST /v1.0/{project_id}/kms/disable-key-rotation */
  disableKeyRotation(input: DisableKeyRotationRequest, options?: CallOptions): Promise<DisableKeyRotationResponse>;
  /** POST /v1.0/{project_id}/kms/update-key-rotation-interval */
  updateKeyRotationInterval(input: UpdateKeyRotationIntervalRequest, options?: CallOptions): Promise<UpdateKeyRotationIntervalResponse>;
  /** POST /v1.0/{project_id}/kms/get-key-rotation-status */
  getKeyRotationStatus(input: GetKeyRotationStatusRequest, options?: CallOptions): Promise<GetKeyRotationStatusResponse>;
  /** POST /v1.0/{project_id}/kms/create-grant */
  createGrant(input: CreateGrantRequest, options?: CallOptions): Promise<CreateGrantResponse>;
  /** POST /v1.0/{project_id}/kms/list-grants */
  listGrants(input: ListGrantsRequest, options?: CallOptions): Promise<ListGrantsResponse>;
  /** POST /v1.0/{project_id}/kms/list-retirable-grants */
  listRetirableGrants(input?: ListRetirableGrantsRequest, options?: CallOptions): Promise<ListRetirableGrantsResponse>;
  /** POST /v1.0/{project_id}/kms/revoke-grant */
  revokeGrant(input: RevokeGrantRequest, options?: CallOptions): Promise<RevokeGrantResponse>;
  /** POST /v1.0/{project_id}/kms/retire-grant */
  retireGrant(input: RetireGrantRequest, options?: CallOptions): Promise<RetireGrantResponse>;
  /** POST /v1.0/{project_id}/kms/encrypt-data */
  encryptData(input: EncryptDataRequest, options?: CallOptions): Promise<EncryptDataResponse>;
  /** POST /v1.0/{project_id}/kms/decrypt-data */
  decryptData(input: DecryptDataRequest, options?: CallOptions): Promise<DecryptDataResponse>;
  /** POST /v1.0/{project_id}/kms/create-datakey */
  createDatakey(input: CreateDatakeyRequest, options?: CallOptions): Promise<CreateDatakeyResponse>;
  /** POST /v1.0/{project_id}/kms/create-datakey-without-plaintext */
  createDatakeyWithoutPlaintext(input: CreateDatakeyWithoutPlaintextRequest, options?: CallOptions): Promise<CreateDatakeyWithoutPlaintextResponse>;
  /** POST /v1.0/{project_id}/kms/encrypt-datakey */
  encryptDatakey(input: EncryptDatakeyRequest, options?: CallOptions): Promise<EncryptDatakeyResponse>;
  /** POST /v1.0/{project_id}/kms/decrypt-datakey */
  decryptDatakey(input: DecryptDatakeyRequest, options?: CallOptions): Promise<DecryptDatakeyResponse>;
  /** POST /v1.0/{project_id}/kms/gen-random */
  genRandom(input: GenRandomRequest, options?: CallOptions): Promise<GenRandomResponse>;
  /** Every item of list-keys, page after page (key_details). */
  paginateKeys(input?: Omit<ListKeysRequest, 'marker'>, options?: CallOptions): AsyncIterable<NonNullable<ListKeysResponse["key_details"]>[number]>;
  /** Every item of list-grants, page after page (grants). */
  paginateGrants(input: Omit<ListGrantsRequest, 'marker'>, options?: CallOptions): AsyncIterable<NonNullable<ListGrantsResponse["grants"]>[number]>;
  /** Every item of list-retirable-grants, page after page (grants). */
  paginateRetirableGrants(input?: Omit<ListRetirableGrantsRequest, 'marker'>, options?: CallOptions): AsyncIterable<NonNullable<ListRetirableGrantsResponse["grants"]>[number]>;
}

export const OPERATIONS = [
  {"name":"create-key","clientMethod":"createKey","method":"POST","path":"/v1.0/{project_id}/kms/create-key","query":[],"status":200,"idempotent":false},
  {"name":"describe-key","clientMethod":"describeKey","method":"POST","path":"/v1.0/{project_id}/kms/describe-key","query":[],"status":200,"idempotent":true},
  {"name":"list-keys","clientMethod":"listKeys","method":"POST","path":"/v1.0/{project_id}/kms/list-keys","query":[],"status":200,"idempotent":true},
  {"name":"enable-key","clientMethod":"enableKey","method":"POST","path":"/v1.0/{project_id}/kms/enable-key","query":[],"status":200,"idempotent":false},
  {"name":"disable-key","clientMethod":"disableKey","method":"POST","path":"/v1.0/{project_id}/kms/disable-key","query":[],"status":200,"idempotent":false},
  {"name":"schedule-key-deletion","clientMethod":"scheduleKeyDeletion","method":"POST","path":"/v1.0/{project_id}/kms/schedule-key-deletion","query":[],"status":200,"idempotent":false},
  {"name":"cancel-key-deletion","clientMethod":"cancelKeyDeletion","method":"POST","path":"/v1.0/{project_id}/kms/cancel-key-deletion","query":[],"status":200,"idempotent":false},
  {"name":"update-key-alias","clientMethod":"updateKeyAlias","method":"POST","path":"/v1.0/{project_id}/kms/update-key-alias","query":[],"status":200,"idempotent":false},
  {"name":"update-key-description","clientMethod":"updateKeyDescription","method":"POST","path":"/v1.0/{project_id}/kms/update-key-description","query":[],"status":200,"idempotent":false},
  {"name":"user-instances","clientMethod":"userInstances","method":"GET","path":"/v1.0/{project_id}/kms/user-instances","query":[],"status":200,"idempotent":true},
  {"name":"user-quotas","clientMethod":"userQuotas","method":"GET","path":"/v1.0/{project_id}/kms/user-quotas","query":[],"status":200,"idempotent":true},
  {"name":"enable-key-rotation","clientMethod":"enableKeyRotation","method":"POST","path":"/v1.0/{project_id}/kms/enable-key-rotation","query":[],"status":200,"idempotent":false},
  {"name":"disable-key-rotation","clientMethod":"disableKeyRotation","method":"POST","path":"/v1.0/{project_id}/kms/disable-key-rotation","query":[],"status":200,"idempotent":false},
  {"name":"update-key-rotation-interval","clientMethod":"updateKeyRotationInterval","method":"POST","path":"/v1.0/{project_id}/kms/update-key-rotation-interval","query":[],"status":200,"idempotent":false},
  {"name":"get-key-rotation-status","clientMethod":"getKeyRotationStatus","method":"POST","path":"/v1.0/{project_id}/kms/get-key-rotation-status","query":[],"status":200,"idempotent":true},
  {"name":"create-grant","clientMethod":"createGrant","method":"POST","path":"/v1.0/{project_id}/kms/create-grant","query":[],"status":200,"idempotent":false},
  {"name":"list-grants","clientMethod":"listGrants","method":"POST","path":"/v1.0/{project_id}/kms/list-grants","query":[],"status":200,"idempotent":true},
  {"name":"list-retirable-grants","clientMethod":"listRetirableGrants","method":"POST","path":"/v1.0/{project_id}/kms/list-retirable-grants","query":[],"status":200,"idempotent":true},
  {"name":"revoke-grant","clientMethod":"revokeGrant","method":"POST","path":"/v1.0/{project_id}/kms/revoke-grant","query":[],"status":200,"idempotent":false},
  {"name":"retire-grant","clientMethod":"retireGrant","method":"POST","path":"/v1.0/{project_id}/kms/retire-grant","query":[],"status":200,"idempotent":false},
  {"name":"encrypt-data","clientMethod":"encryptData","method":"POST","path":"/v1.0/{project_id}/kms/encrypt-data","query":[],"status":200,"idempotent":true},
  {"name":"decrypt-data","clientMethod":"decryptData","method":"POST","path":"/v1.0/{project_id}/kms/decrypt-data","query":[],"status":200,"idempotent":true},
  {"name":"create-datakey","clientMethod":"createDatakey","method":"POST","path":"/v1.0/{project_id}/kms/create-datakey","query":[],"status":200,"idempotent":true},
  {"name":"create-datakey-without-plaintext","clientMethod":"createDatakeyWithoutPlaintext","method":"POST","path":"/v1.0/{project_id}/kms/create-datakey-without-plaintext","query":[],"status":200,"idempotent":true},
  {"name":"encrypt-datakey","clientMethod":"encryptDatakey","method":"POST","path":"/v1.0/{project_id}/kms/encrypt-datakey","query":[],"status":200,"idempotent":true},
  {"name":"decrypt-datakey","clientMethod":"decryptDatakey","method":"POST","path":"/v1.0/{project_id}/kms/decrypt-datakey","query":[],"status":200,"idempotent":true},
  {"name":"gen-random","clientMethod":"genRandom","method":"POST","path":"/v1.0/{project_id}/kms/gen-random","query":[],"status":200,"idempotent":true},
] as const;

export const PAGINATORS = [
  {"method":"paginateKeys","operation":"list-keys","items":"key_details","nextMarker":["next_marker"]},
  {"method":"paginateGrants","operation":"list-grants","items":"grants","nextMarker":["next_marker"]},
  {"method":"paginateRetirableGrants","operation":"list-retirable-grants","items":"grants","nextMarker":["next_marker"]},
] as const;

export type OperationName = keyof Operations;
