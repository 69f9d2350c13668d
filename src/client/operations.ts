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
  tags?: unknown[];
}

/** Answer of create-key. */
export interface CreateKeyResponse {
  key_info: {
    key_id: string;
    domain_id: string;
    region_id: string;
  };
}

/** Input of POST /v1.0/{project_id}/kms/describe-key: body, query and path fields. */
export interface DescribeKeyRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of describe-key. */
export interface DescribeKeyResponse {
  key_info: {
    key_id: string;
    domain_id: string;
    key_alias: string;
    realm: string;
    key_spec: string;
    key_usage: string;
    key_description: string;
    creation_date: string;
    scheduled_deletion_date: string;
    key_state: string;
    default_key_flag: string;
    key_type: string;
    expiration_time: string;
    origin: string;
    key_rotation_enabled: string;
    sys_enterprise_project_id: string;
    keystore_id: string;
  };
}

/** Input of POST /v1.0/{project_id}/kms/list-keys: body, query and path fields. */
export interface ListKeysRequest {
  limit?: string | number;
  marker?: string | number;
  key_state?: string;
  key_spec?: "AES_256" | "SM4" | "RSA_2048" | "RSA_3072" | "RSA_4096" | "EC_P256" | "EC_P384" | "SM2" | "ALL" | "SECP256K1" | "ED25519" | "HMAC_256" | "HMAC_384" | "HMAC_512" | "HMAC_SM3";
  enterprise_project_id?: string;
  sequence?: string;
}

/** Answer of list-keys. */
export interface ListKeysResponse {
  keys: string[];
  key_details: Array<{
    key_id: string;
    domain_id: string;
    key_alias: string;
    realm: string;
    key_spec: string;
    key_usage: string;
    key_description: string;
    creation_date: string;
    scheduled_deletion_date: string;
    key_state: string;
    default_key_flag: string;
    key_type: string;
    expiration_time: string;
    origin: string;
    key_rotation_enabled: string;
    sys_enterprise_project_id: string;
    keystore_id: string;
  }>;
  next_marker: string;
  truncated: string;
  total: number;
}

/** Input of POST /v1.0/{project_id}/kms/enable-key: body, query and path fields. */
export interface EnableKeyRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of enable-key. */
export interface EnableKeyResponse {
  key_info: {
    key_id: string;
    key_state: string;
  };
}

/** Input of POST /v1.0/{project_id}/kms/disable-key: body, query and path fields. */
export interface DisableKeyRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of disable-key. */
export interface DisableKeyResponse {
  key_info: {
    key_id: string;
    key_state: string;
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
  key_id: string;
  key_state: string;
}

/** Input of POST /v1.0/{project_id}/kms/cancel-key-deletion: body, query and path fields. */
export interface CancelKeyDeletionRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of cancel-key-deletion. */
export interface CancelKeyDeletionResponse {
  key_id: string;
  key_state: string;
}

/** Input of POST /v1.0/{project_id}/kms/update-key-alias: body, query and path fields. */
export interface UpdateKeyAliasRequest {
  key_id: string;
  key_alias: string;
  sequence?: string;
}

/** Answer of update-key-alias. */
export interface UpdateKeyAliasResponse {
  key_info: {
    key_id: string;
    key_alias: string;
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
  key_info: {
    key_id: string;
    key_description: string;
  };
}

/** Input of GET /v1.0/{project_id}/kms/user-instances: body, query and path fields. */
export type UserInstancesRequest = Record<string, never>;

/** Answer of user-instances. */
export interface UserInstancesResponse {
  instance_num: number;
}

/** Input of GET /v1.0/{project_id}/kms/user-quotas: body, query and path fields. */
export type UserQuotasRequest = Record<string, never>;

/** Answer of user-quotas. */
export interface UserQuotasResponse {
  quotas: {
    resources: Array<{
      type: string;
      used: number;
      quota: number;
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
  key_rotation_enabled: boolean;
  rotation_interval: number;
  last_rotation_time: string;
  number_of_rotations: number;
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
  grant_id: string;
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
  grants: Array<{
    key_id: string;
    grant_id: string;
    grantee_principal: string;
    grantee_principal_type: string;
    operations: string[];
    issuing_principal: string;
    creation_date: string;
    name?: string;
    retiring_principal?: string;
  }>;
  next_marker: string;
  truncated: string;
  total: number;
}

/** Input of POST /v1.0/{project_id}/kms/list-retirable-grants: body, query and path fields. */
export interface ListRetirableGrantsRequest {
  limit?: string | number;
  marker?: string | number;
  sequence?: string;
}

/** Answer of list-retirable-grants. */
export interface ListRetirableGrantsResponse {
  grants: Array<{
    key_id: string;
    grant_id: string;
    grantee_principal: string;
    grantee_principal_type: string;
    operations: string[];
    issuing_principal: string;
    creation_date: string;
    name?: string;
    retiring_principal?: string;
  }>;
  next_marker: string;
  truncated: string;
  total: number;
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
  encryption_context?: Record<string, string> | string;
  sequence?: string;
}

/** Answer of encrypt-data. */
export interface EncryptDataResponse {
  key_id: string;
  cipher_text: string;
}

/** Input of POST /v1.0/{project_id}/kms/decrypt-data: body, query and path fields. */
export interface DecryptDataRequest {
  cipher_text: string;
  key_id?: string;
  encryption_algorithm?: "SYMMETRIC_DEFAULT" | "RSAES_OAEP_SHA_256" | "RSAES_OAEP_SHA_1" | "SM2_ENCRYPT";
  additional_authenticated_data?: string;
  encryption_context?: Record<string, string> | string;
  sequence?: string;
}

/** Answer of decrypt-data. */
export interface DecryptDataResponse {
  key_id: string;
  plain_text: string;
  plain_text_base64: string;
}

/** Input of POST /v1.0/{project_id}/kms/create-datakey: body, query and path fields. */
export interface CreateDatakeyRequest {
  key_id: string;
  key_spec?: string;
  datakey_length?: string | number;
  additional_authenticated_data?: string;
  encryption_context?: Record<string, string> | string;
  sequence?: string;
}

/** Answer of create-datakey. */
export interface CreateDatakeyResponse {
  key_id: string;
  plain_text: string;
  cipher_text: string;
}

/** Input of POST /v1.0/{project_id}/kms/create-datakey-without-plaintext: body, query and path fields. */
export interface CreateDatakeyWithoutPlaintextRequest {
  key_id: string;
  key_spec?: string;
  datakey_length?: string | number;
  additional_authenticated_data?: string;
  encryption_context?: Record<string, string> | string;
  sequence?: string;
}

/** Answer of create-datakey-without-plaintext. */
export interface CreateDatakeyWithoutPlaintextResponse {
  key_id: string;
  cipher_text: string;
}

/** Input of POST /v1.0/{project_id}/kms/encrypt-datakey: body, query and path fields. */
export interface EncryptDatakeyRequest {
  key_id: string;
  plain_text: string;
  datakey_plain_length: string | number;
  additional_authenticated_data?: string;
  encryption_context?: Record<string, string> | string;
  sequence?: string;
}

/** Answer of encrypt-datakey. */
export interface EncryptDatakeyResponse {
  key_id: string;
  cipher_text: string;
  datakey_length: string;
}

/** Input of POST /v1.0/{project_id}/kms/decrypt-datakey: body, query and path fields. */
export interface DecryptDatakeyRequest {
  key_id: string;
  cipher_text: string;
  datakey_cipher_length: string | number;
  additional_authenticated_data?: string;
  encryption_context?: Record<string, string> | string;
  sequence?: string;
}

/** Answer of decrypt-datakey. */
export interface DecryptDatakeyResponse {
  data_key: string;
  datakey_length: string;
  datakey_dgst: string;
}

/** Input of POST /v1.0/{project_id}/kms/gen-random: body, query and path fields. */
export interface GenRandomRequest {
  random_data_length: string | number;
  sequence?: string;
}

/** Answer of gen-random. */
export interface GenRandomResponse {
  random_data: string;
}

/** Input of POST /v1.0/{project_id}/kms/get-parameters-for-import: body, query and path fields. */
export interface GetParametersForImportRequest {
  key_id: string;
  wrapping_algorithm: "RSAES_OAEP_SHA_256" | "RSAES_OAEP_SHA_1" | "SM2_ENCRYPT";
  sequence?: string;
}

/** Answer of get-parameters-for-import. */
export interface GetParametersForImportResponse {
  key_id: string;
  import_token: string;
  expiration_time: number;
  public_key: string;
}

/** Input of POST /v1.0/{project_id}/kms/import-key-material: body, query and path fields. */
export interface ImportKeyMaterialRequest {
  key_id: string;
  import_token: string;
  encrypted_key_material: string;
  encrypted_privatekey?: string;
  expiration_time?: number;
  sequence?: string;
}

/** Answer of import-key-material. */
export type ImportKeyMaterialResponse = Record<string, never>;

/** Input of POST /v1.0/{project_id}/kms/delete-imported-key-material: body, query and path fields. */
export interface DeleteImportedKeyMaterialRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of delete-imported-key-material. */
export type DeleteImportedKeyMaterialResponse = Record<string, never>;

/** Input of POST /v1.0/{project_id}/keystores: body, query and path fields. */
export interface CreateKeystoreRequest {
  keystore_alias: string;
  hsm_cluster_id?: string;
  hsm_ca_cert?: string;
  cluster_id?: string;
  keystore_type?: "DEFAULT" | "DHSM" | "CDMS" | "0" | "1" | "2";
}

/** Answer of create-keystore. */
export interface CreateKeystoreResponse {
  keystore: {
    keystore_id: string;
    domain_id: string;
  };
}

/** Input of GET /v1.0/{project_id}/keystores: body, query and path fields. */
export interface ListKeystoresRequest {
  limit?: string | number;
  offset?: string | number;
}

/** Answer of list-keystores. */
export interface ListKeystoresResponse {
  total: number;
  keystores: Array<{
    keystore_id: string;
    domain_id: string;
    keystore_alias: string;
    keystore_type: string;
    hsm_cluster_id: string;
    cluster_id: string;
    create_time: string;
  }>;
}

/** Input of GET /v1.0/{project_id}/keystores/{keystore_id}: body, query and path fields. */
export interface ShowKeystoreRequest {
  keystore_id: string;
}

/** Answer of show-keystore. */
export interface ShowKeystoreResponse {
  keystore: {
    keystore_id: string;
    domain_id: string;
    keystore_alias: string;
    keystore_type: string;
    hsm_cluster_id: string;
    cluster_id: string;
    create_time: string;
  };
}

/** Input of POST /v1.0/{project_id}/keystores/{keystore_id}/enable: body, query and path fields. */
export interface EnableKeystoreRequest {
  keystore_id: string;
}

/** Answer of enable-keystore. */
export interface EnableKeystoreResponse {
  keystore: {
    keystore_id: string;
    keystore_state: string;
  };
}

/** Input of POST /v1.0/{project_id}/keystores/{keystore_id}/disable: body, query and path fields. */
export interface DisableKeystoreRequest {
  keystore_id: string;
}

/** Answer of disable-keystore. */
export interface DisableKeystoreResponse {
  keystore: {
    keystore_id: string;
    keystore_state: string;
  };
}

/** Input of DELETE /v1.0/{project_id}/keystores/{keystore_id}: body, query and path fields. */
export interface DeleteKeystoreRequest {
  keystore_id: string;
}

/** Answer of delete-keystore. */
export type DeleteKeystoreResponse = Record<string, never>;

/** Input of GET /v2/{project_id}/kms/regions: body, query and path fields. */
export interface ListSupportRegionsRequest {
  limit?: string | number;
  offset?: string | number;
}

/** Answer of list-support-regions. */
export interface ListSupportRegionsResponse {
  regions: string[];
}

/** Input of POST /v2/{project_id}/kms/keys/{key_id}/replicate: body, query and path fields. */
export interface ReplicateKeyRequest {
  key_id: string;
  replica_region: string;
  key_alias: string;
  key_description?: string;
  enterprise_project_id?: string;
  replica_project_id: string;
  tags?: Array<Record<string, never>>;
}

/** Answer of replicate-key. */
export interface ReplicateKeyResponse {
  key_id: string;
  domain_id: string;
  region: string;
}

/** Input of PUT /v2/{project_id}/kms/keys/{key_id}/update-primary-region: body, query and path fields. */
export interface UpdatePrimaryRegionRequest {
  key_id: string;
  primary_region: string;
}

/** Answer of update-primary-region. */
export interface UpdatePrimaryRegionResponse {
  key_id: string;
  primary_region: string;
}

/** Input of GET /v3/{project_id}/traces: body, query and path fields. */
export interface ListTracesRequest {
  trace_type: "system" | "data";
  limit?: string | number;
  from?: string | number;
  to?: string | number;
  next?: string | number;
  trace_id?: string | number;
  user?: string;
  resource_id?: string;
  trace_name?: string;
  trace_rating?: "normal" | "warning" | "incident";
  service_type?: string;
}

/** Answer of list-traces. */
export interface ListTracesResponse {
  traces: Array<{
    resource_id: string;
    trace_name: string;
    trace_rating: string;
    trace_type: string;
    request: string;
    response: string;
    code: string;
    api_version: string;
    message: string;
    record_time: number;
    trace_id: string;
    time: number;
    user: {
      id: string;
      name: string;
      domain: {
        id: string;
        name: string;
      };
    };
    service_type: string;
    resource_type: string;
    resource_name: string;
    request_id: string;
  }>;
  meta_data: {
    count: number;
    marker?: string;
  };
}

/** Input of POST /v1.0/{project_id}/kms/{key_id}/tags: body, query and path fields. */
export interface CreateKmsTagRequest {
  key_id: string;
  tag: Record<string, never>;
  sequence?: string;
}

/** Answer of create-kms-tag (204: no body). */
export type CreateKmsTagResponse = Record<string, never>;

/** Input of POST /v1.0/{project_id}/kms/{key_id}/tags/action: body, query and path fields. */
export interface BatchCreateKmsTagsRequest {
  key_id: string;
  tags: unknown[];
  action: string;
  sequence?: string;
}

/** Answer of batch-create-kms-tags (204: no body). */
export type BatchCreateKmsTagsResponse = Record<string, never>;

/** Input of DELETE /v1.0/{project_id}/kms/{key_id}/tags/{key}: body, query and path fields. */
export interface DeleteTagRequest {
  key_id: string;
  key: string;
  sequence?: string;
}

/** Answer of delete-tag (204: no body). */
export type DeleteTagResponse = Record<string, never>;

/** Input of GET /v1.0/{project_id}/kms/{key_id}/tags: body, query and path fields. */
export interface ShowKmsTagsRequest {
  key_id: string;
}

/** Answer of show-kms-tags. */
export interface ShowKmsTagsResponse {
  tags: Array<{
    key: string;
    value: string;
  }>;
  existTagsNum: number;
}

/** Input of GET /v1.0/{project_id}/kms/tags: body, query and path fields. */
export type ListKmsTagsRequest = Record<string, never>;

/** Answer of list-kms-tags. */
export interface ListKmsTagsResponse {
  tags: Array<{
    key: string;
    values: string[];
  }>;
}

/** Input of POST /v1.0/{project_id}/kms/resource_instances/action: body, query and path fields. */
export interface ListKmsByTagsRequest {
  action: string;
  limit?: string | number;
  offset?: string | number;
  tags?: unknown[];
  matches?: unknown[];
  sequence?: string;
}

/** Answer of list-kms-by-tags. */
export interface ListKmsByTagsResponse {
  resources?: Array<{
    resource_id: string;
    resource_detail: {
      key_id: string;
      domain_id: string;
      key_alias: string;
      realm: string;
      key_spec: string;
      key_usage: string;
      key_description: string;
      creation_date: string;
      scheduled_deletion_date: string;
      key_state: string;
      default_key_flag: string;
      key_type: string;
      expiration_time: string;
      origin: string;
      key_rotation_enabled: string;
      sys_enterprise_project_id: string;
      keystore_id: string;
    };
    resource_name: string;
    tags: Array<{
      key: string;
      value: string;
    }>;
  }>;
  total_count: number;
}

/** Input of POST /v1.0/{project_id}/kms/aliases: body, query and path fields. */
export interface CreateAliasRequest {
  key_id: string;
  alias: string;
}

/** Answer of create-alias. */
export interface CreateAliasResponse {
  domain_id: string;
  key_id: string;
  alias: string;
  alias_urn: string;
  create_time: string;
  update_time: string;
}

/** Input of GET /v1.0/{project_id}/kms/aliases: body, query and path fields. */
export interface ListAliasesRequest {
  key_id?: string;
  limit?: string | number;
  marker?: string;
}

/** Answer of list-aliases. */
export interface ListAliasesResponse {
  aliases: Array<{
    domain_id: string;
    key_id: string;
    alias: string;
    alias_urn: string;
    create_time: string;
    update_time: string;
  }>;
  page_info: {
    next_marker: string;
    current_count: number;
  };
}

/** Input of DELETE /v1.0/{project_id}/kms/aliases: body, query and path fields. */
export interface DeleteAliasRequest {
  key_id: string;
  aliases: string[];
}

/** Answer of delete-alias (204: no body). */
export type DeleteAliasResponse = Record<string, never>;

/** Input of POST /v1.0/{project_id}/kms/alias/associate: body, query and path fields. */
export interface AssociateAliasRequest {
  alias: string;
  target_key_id: string;
}

/** Answer of associate-alias. */
export interface AssociateAliasResponse {
  domain_id: string;
  key_id: string;
  alias: string;
  alias_urn: string;
  create_time: string;
  update_time: string;
}

/** Input of POST /v1.0/{project_id}/kms/sign: body, query and path fields. */
export interface SignRequest {
  key_id: string;
  message: string;
  signing_algorithm: "RSASSA_PSS_SHA_256" | "RSASSA_PSS_SHA_384" | "RSASSA_PSS_SHA_512" | "RSASSA_PKCS1_V1_5_SHA_256" | "RSASSA_PKCS1_V1_5_SHA_384" | "RSASSA_PKCS1_V1_5_SHA_512" | "ECDSA_SHA_256" | "ECDSA_SHA_384" | "ECDSA_SHA_512" | "SM2DSA_SM3" | "ED25519_SHA_512" | "ED25519_PH_SHA_512";
  message_type?: "DIGEST" | "RAW";
  sequence?: string;
}

/** Answer of sign. */
export interface SignResponse {
  key_id: string;
  signature: string;
}

/** Input of POST /v1.0/{project_id}/kms/verify: body, query and path fields. */
export interface VerifyRequest {
  key_id: string;
  message: string;
  signature: string;
  signing_algorithm: "RSASSA_PSS_SHA_256" | "RSASSA_PSS_SHA_384" | "RSASSA_PSS_SHA_512" | "RSASSA_PKCS1_V1_5_SHA_256" | "RSASSA_PKCS1_V1_5_SHA_384" | "RSASSA_PKCS1_V1_5_SHA_512" | "ECDSA_SHA_256" | "ECDSA_SHA_384" | "ECDSA_SHA_512" | "SM2DSA_SM3" | "ED25519_SHA_512" | "ED25519_PH_SHA_512";
  message_type?: "DIGEST" | "RAW";
  sequence?: string;
}

/** Answer of verify. */
export interface VerifyResponse {
  key_id: string;
  signature_valid: string;
}

/** Input of POST /v1.0/{project_id}/kms/get-publickey: body, query and path fields. */
export interface GetPublickeyRequest {
  key_id: string;
  sequence?: string;
}

/** Answer of get-publickey. */
export interface GetPublickeyResponse {
  key_id: string;
  public_key: string;
}

/** Input of POST /v1.0/{project_id}/kms/generate-mac: body, query and path fields. */
export interface GenerateMacRequest {
  key_id: string;
  mac_algorithm: "HMAC_SHA_256" | "HMAC_SHA_384" | "HMAC_SHA_512" | "HMAC_SM3";
  message: string;
  sequence?: string;
}

/** Answer of generate-mac. */
export interface GenerateMacResponse {
  key_id: string;
  mac_algorithm: string;
  mac: string;
}

/** Input of POST /v1.0/{project_id}/kms/verify-mac: body, query and path fields. */
export interface VerifyMacRequest {
  key_id: string;
  mac_algorithm: "HMAC_SHA_256" | "HMAC_SHA_384" | "HMAC_SHA_512" | "HMAC_SM3";
  message: string;
  mac: string;
  sequence?: string;
}

/** Answer of verify-mac. */
export interface VerifyMacResponse {
  key_id: string;
  mac_algorithm: string;
  mac_valid: boolean;
}

/** Input of POST /v1.0/{project_id}/kms/create-rsa-datakey-pair: body, query and path fields. */
export interface CreateRsaDatakeyPairRequest {
  key_id: string;
  key_spec: "RSA_2048" | "RSA_3072" | "RSA_4096";
  with_plain_text?: boolean;
  additional_authenticated_data?: string;
  sequence?: string;
}

/** Answer of create-rsa-datakey-pair. */
export interface CreateRsaDatakeyPairResponse {
  key_id: string;
  key_spec: string;
  public_key: string;
  private_key_cipher_text: string;
  private_key_plain_text?: string;
}

/** Input of POST /v1.0/{project_id}/kms/create-ec-datakey-pair: body, query and path fields. */
export interface CreateEcDatakeyPairRequest {
  key_id: string;
  key_spec: "ECC_NIST_P256" | "ECC_NIST_P384" | "ECC_NIST_P521" | "ECC_SECG_P256K1" | "SM2";
  with_plain_text?: boolean;
  additional_authenticated_data?: string;
  sequence?: string;
}

/** Answer of create-ec-datakey-pair. */
export interface CreateEcDatakeyPairResponse {
  key_id: string;
  key_spec: string;
  public_key: string;
  private_key_cipher_text: string;
  private_key_plain_text?: string;
}

/** Input of POST /v1.0/{project_id}/kms/re-encrypt: body, query and path fields. */
export interface ReEncryptRequest {
  cipher_text: string;
  source_key_id?: string;
  destination_key_id: string;
  source_additional_authenticated_data?: string;
  destination_additional_authenticated_data?: string;
  source_encryption_algorithm?: "SYMMETRIC_DEFAULT" | "RSAES_OAEP_SHA_256" | "RSAES_OAEP_SHA_1" | "SM2_ENCRYPT";
  destination_encryption_algorithm?: "SYMMETRIC_DEFAULT" | "RSAES_OAEP_SHA_256" | "RSAES_OAEP_SHA_1" | "SM2_ENCRYPT";
  datakey_cipher_length?: string | number;
  sequence?: string;
}

/** Answer of re-encrypt. */
export interface ReEncryptResponse {
  key_id: string;
  source_key_id: string;
  source_encryption_algorithm: string;
  destination_encryption_algorithm: string;
  cipher_text: string;
}

/** Input of POST /v1.0/{project_id}/kms/create-pin: body, query and path fields. */
export interface CreatePinRequest {
  pin_type?: "PlainText" | "CipherText";
  keystore_id?: string;
}

/** Answer of create-pin. */
export interface CreatePinResponse {
  pin: string;
}

/** Input of POST /v1/{project_id}/secrets: body, query and path fields. */
export interface CreateSecretRequest {
  name: string;
  kms_key_id?: string;
  description?: string;
  secret_string?: string;
  secret_binary?: string;
  tags?: unknown[];
  secret_type?: "COMMON" | "RDS" | "RDS-FG" | "GaussDB-FG";
  auto_rotation?: boolean;
  rotation_period?: string;
  rotation_config?: string;
  event_subscriptions?: string[];
  enterprise_project_id?: string;
  rotation_func_urn?: string;
}

/** Answer of create-secret. */
export interface CreateSecretResponse {
  secret: {
    id: string;
    name: string;
    state: string;
    kms_key_id: string;
    description: string;
    create_time: number;
    update_time: number;
    scheduled_delete_time: number | null;
    secret_type: string;
    auto_rotation: boolean;
    event_subscriptions: string[];
    enterprise_project_id: string;
  };
}

/** Input of GET /v1/{project_id}/secrets: body, query and path fields. */
export interface ListSecretsRequest {
  limit?: string | number;
  marker?: string;
  event_name?: string;
}

/** Answer of list-secrets. */
export interface ListSecretsResponse {
  secrets: Array<{
    id: string;
    name: string;
    state: string;
    kms_key_id: string;
    description: string;
    create_time: number;
    update_time: number;
    scheduled_delete_time: number | null;
    secret_type: string;
    auto_rotation: boolean;
    event_subscriptions: string[];
    enterprise_project_id: string;
  }>;
  page_info: {
    next_marker: string | null;
    previous_marker: string | null;
    current_count: number;
  };
}

/** Input of GET /v1/{project_id}/secrets/{secret_name}: body, query and path fields. */
export interface ShowSecretRequest {
  secret_name: string;
}

/** Answer of show-secret. */
export interface ShowSecretResponse {
  secret: {
    id: string;
    name: string;
    state: string;
    kms_key_id: string;
    description: string;
    create_time: number;
    update_time: number;
    scheduled_delete_time: number | null;
    secret_type: string;
    auto_rotation: boolean;
    event_subscriptions: string[];
    enterprise_project_id: string;
  };
}

/** Input of PUT /v1/{project_id}/secrets/{secret_name}: body, query and path fields. */
export interface UpdateSecretRequest {
  secret_name: string;
  kms_key_id?: string;
  description?: string;
  auto_rotation?: boolean;
  rotation_period?: string;
  event_subscriptions?: string[];
}

/** Answer of update-secret. */
export interface UpdateSecretResponse {
  secret: {
    id: string;
    name: string;
    state: string;
    kms_key_id: string;
    description: string;
    create_time: number;
    update_time: number;
    scheduled_delete_time: number | null;
    secret_type: string;
    auto_rotation: boolean;
    event_subscriptions: string[];
    enterprise_project_id: string;
  };
}

/** Input of DELETE /v1/{project_id}/secrets/{secret_name}: body, query and path fields. */
export interface DeleteSecretRequest {
  secret_name: string;
}

/** Answer of delete-secret (204: no body). */
export type DeleteSecretResponse = Record<string, never>;

/** Input of POST /v1/{project_id}/secrets/{secret_name}/scheduled-deleted-tasks/create: body, query and path fields. */
export interface DeleteSecretForScheduleRequest {
  secret_name: string;
  recovery_window_in_days: number;
}

/** Answer of delete-secret-for-schedule. */
export interface DeleteSecretForScheduleResponse {
  secret: {
    id: string;
    name: string;
    state: string;
    kms_key_id: string;
    description: string;
    create_time: number;
    update_time: number;
    scheduled_delete_time: number | null;
    secret_type: string;
    auto_rotation: boolean;
    event_subscriptions: string[];
    enterprise_project_id: string;
  };
}

/** Input of POST /v1/{project_id}/secrets/{secret_name}/scheduled-deleted-tasks/cancel: body, query and path fields. */
export interface RestoreSecretRequest {
  secret_name: string;
}

/** Answer of restore-secret. */
export interface RestoreSecretResponse {
  secret: {
    id: string;
    name: string;
    state: string;
    kms_key_id: string;
    description: string;
    create_time: number;
    update_time: number;
    scheduled_delete_time: number | null;
    secret_type: string;
    auto_rotation: boolean;
    event_subscriptions: string[];
    enterprise_project_id: string;
  };
}

/** Input of POST /v1/{project_id}/secrets/{secret_name}/versions: body, query and path fields. */
export interface CreateSecretVersionRequest {
  secret_name: string;
  secret_string?: string;
  secret_binary?: string;
  version_stages?: string[];
  expire_time?: number;
}

/** Answer of create-secret-version. */
export interface CreateSecretVersionResponse {
  version_metadata: {
    id: string;
    create_time: number;
    expire_time?: number;
    kms_key_id: string;
    secret_name: string;
    version_stages: string[];
  };
}

/** Input of GET /v1/{project_id}/secrets/{secret_name}/versions: body, query and path fields. */
export interface ListSecretVersionsRequest {
  secret_name: string;
  marker?: string;
  limit?: string | number;
}

/** Answer of list-secret-versions. */
export interface ListSecretVersionsResponse {
  version_metadatas: Array<{
    id: string;
    create_time: number;
    expire_time?: number;
    kms_key_id: string;
    secret_name: string;
    version_stages: string[];
  }>;
  page_info: {
    next_marker: string | null;
    previous_marker: string | null;
    current_count: number;
  };
}

/** Input of GET /v1/{project_id}/secrets/{secret_name}/versions/{version_id}: body, query and path fields. */
export interface ShowSecretVersionRequest {
  secret_name: string;
  version_id: string;
}

/** Answer of show-secret-version. */
export interface ShowSecretVersionResponse {
  version: {
    version_metadata: {
      id: string;
      create_time: number;
      expire_time?: number;
      kms_key_id: string;
      secret_name: string;
      version_stages: string[];
    };
    secret_string?: string;
    secret_binary?: string;
  };
}

/** Input of PUT /v1/{project_id}/secrets/{secret_name}/versions/{version_id}: body, query and path fields. */
export interface UpdateSecretVersionRequest {
  secret_name: string;
  version_id: string;
  expire_time?: number;
}

/** Answer of update-secret-version. */
export interface UpdateSecretVersionResponse {
  version_metadata: {
    id: string;
    create_time: number;
    expire_time?: number;
    kms_key_id: string;
    secret_name: string;
    version_stages: string[];
  };
}

/** Input of PUT /v1/{project_id}/secrets/{secret_name}/stages/{stage_name}: body, query and path fields. */
export interface UpdateSecretStageRequest {
  secret_name: string;
  stage_name: string;
  version_id: string;
}

/** Answer of update-secret-stage. */
export interface UpdateSecretStageResponse {
  stage: {
    name: string;
    update_time: number;
    secret_name: string;
    version_id: string;
  };
}

/** Input of GET /v1/{project_id}/secrets/{secret_name}/stages/{stage_name}: body, query and path fields. */
export interface ShowSecretStageRequest {
  secret_name: string;
  stage_name: string;
}

/** Answer of show-secret-stage. */
export interface ShowSecretStageResponse {
  stage: {
    name: string;
    update_time: number;
    secret_name: string;
    version_id: string;
  };
}

/** Input of DELETE /v1/{project_id}/secrets/{secret_name}/stages/{stage_name}: body, query and path fields. */
export interface DeleteSecretStageRequest {
  secret_name: string;
  stage_name: string;
}

/** Answer of delete-secret-stage (204: no body). */
export type DeleteSecretStageResponse = Record<string, never>;

/** Input of POST /v1/{project_id}/csms/{secret_id}/tags: body, query and path fields. */
export interface CreateSecretTagRequest {
  secret_id: string;
  tag: Record<string, never>;
}

/** Answer of create-secret-tag (204: no body). */
export type CreateSecretTagResponse = Record<string, never>;

/** Input of POST /v1/{project_id}/csms/{secret_id}/tags/action: body, query and path fields. */
export interface BatchCreateOrDeleteSecretTagsRequest {
  secret_id: string;
  action: string;
  tags: unknown[];
  sys_tags?: unknown[];
  sequence?: string;
}

/** Answer of batch-create-or-delete-secret-tags (204: no body). */
export type BatchCreateOrDeleteSecretTagsResponse = Record<string, never>;

/** Input of DELETE /v1/{project_id}/csms/{secret_id}/tags/{key}: body, query and path fields. */
export interface DeleteSecretTagRequest {
  secret_id: string;
  key: string;
}

/** Answer of delete-secret-tag (204: no body). */
export type DeleteSecretTagResponse = Record<string, never>;

/** Input of GET /v1/{project_id}/csms/{secret_id}/tags: body, query and path fields. */
export interface ListSecretTagsRequest {
  secret_id: string;
}

/** Answer of list-secret-tags. */
export interface ListSecretTagsResponse {
  tags: Array<{
    key: string;
    value: string;
  }>;
  sys_tags: Array<{
    key: string;
    value: string;
  }>;
}

/** Input of GET /v1/{project_id}/csms/tags: body, query and path fields. */
export type ListProjectSecretsTagsRequest = Record<string, never>;

/** Answer of list-project-secrets-tags. */
export interface ListProjectSecretsTagsResponse {
  tags: Array<{
    key: string;
    values: string[];
  }>;
}

/** Input of POST /v1/{project_id}/csms/resource_instances/action: body, query and path fields. */
export interface ListSecretResourceInstancesRequest {
  action: string;
  limit?: string | number;
  offset?: string | number;
  tags?: unknown[];
  matches?: unknown[];
  sequence?: string;
}

/** Answer of list-secret-resource-instances. */
export interface ListSecretResourceInstancesResponse {
  resources?: Array<{
    resource_id: string;
    resource_detail: {
      id: string;
      name: string;
      state: string;
      kms_key_id: string;
      description: string;
      create_time: number;
      update_time: number;
      scheduled_delete_time: number | null;
      secret_type: string;
      auto_rotation: boolean;
      event_subscriptions: string[];
      enterprise_project_id: string;
    };
    tags: Array<{
      key: string;
      value: string;
    }>;
    resource_name: string;
    sys_tags: Array<{
      key: string;
      value: string;
    }>;
  }>;
  total_count: number;
}

/** Input of POST /v1/{project_id}/csms/generate-password: body, query and path fields. */
export interface GenerateRandomPasswordRequest {
  password_policy_name?: string;
  length?: number;
  exclude_characters?: string;
  exclude_lowercase?: boolean;
  exclude_uppercase?: boolean;
  exclude_numbers?: boolean;
  exclude_punctuation?: boolean;
  include_space?: boolean;
  require_each_included_type?: boolean;
}

/** Answer of generate-random-password. */
export interface GenerateRandomPasswordResponse {
  password: string;
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
  "get-parameters-for-import": { request: GetParametersForImportRequest; response: GetParametersForImportResponse };
  "import-key-material": { request: ImportKeyMaterialRequest; response: ImportKeyMaterialResponse };
  "delete-imported-key-material": { request: DeleteImportedKeyMaterialRequest; response: DeleteImportedKeyMaterialResponse };
  "create-keystore": { request: CreateKeystoreRequest; response: CreateKeystoreResponse };
  "list-keystores": { request: ListKeystoresRequest; response: ListKeystoresResponse };
  "show-keystore": { request: ShowKeystoreRequest; response: ShowKeystoreResponse };
  "enable-keystore": { request: EnableKeystoreRequest; response: EnableKeystoreResponse };
  "disable-keystore": { request: DisableKeystoreRequest; response: DisableKeystoreResponse };
  "delete-keystore": { request: DeleteKeystoreRequest; response: DeleteKeystoreResponse };
  "list-support-regions": { request: ListSupportRegionsRequest; response: ListSupportRegionsResponse };
  "replicate-key": { request: ReplicateKeyRequest; response: ReplicateKeyResponse };
  "update-primary-region": { request: UpdatePrimaryRegionRequest; response: UpdatePrimaryRegionResponse };
  "list-traces": { request: ListTracesRequest; response: ListTracesResponse };
  "create-kms-tag": { request: CreateKmsTagRequest; response: CreateKmsTagResponse };
  "batch-create-kms-tags": { request: BatchCreateKmsTagsRequest; response: BatchCreateKmsTagsResponse };
  "delete-tag": { request: DeleteTagRequest; response: DeleteTagResponse };
  "show-kms-tags": { request: ShowKmsTagsRequest; response: ShowKmsTagsResponse };
  "list-kms-tags": { request: ListKmsTagsRequest; response: ListKmsTagsResponse };
  "list-kms-by-tags": { request: ListKmsByTagsRequest; response: ListKmsByTagsResponse };
  "create-alias": { request: CreateAliasRequest; response: CreateAliasResponse };
  "list-aliases": { request: ListAliasesRequest; response: ListAliasesResponse };
  "delete-alias": { request: DeleteAliasRequest; response: DeleteAliasResponse };
  "associate-alias": { request: AssociateAliasRequest; response: AssociateAliasResponse };
  "sign": { request: SignRequest; response: SignResponse };
  "verify": { request: VerifyRequest; response: VerifyResponse };
  "get-publickey": { request: GetPublickeyRequest; response: GetPublickeyResponse };
  "generate-mac": { request: GenerateMacRequest; response: GenerateMacResponse };
  "verify-mac": { request: VerifyMacRequest; response: VerifyMacResponse };
  "create-rsa-datakey-pair": { request: CreateRsaDatakeyPairRequest; response: CreateRsaDatakeyPairResponse };
  "create-ec-datakey-pair": { request: CreateEcDatakeyPairRequest; response: CreateEcDatakeyPairResponse };
  "re-encrypt": { request: ReEncryptRequest; response: ReEncryptResponse };
  "create-pin": { request: CreatePinRequest; response: CreatePinResponse };
  "create-secret": { request: CreateSecretRequest; response: CreateSecretResponse };
  "list-secrets": { request: ListSecretsRequest; response: ListSecretsResponse };
  "show-secret": { request: ShowSecretRequest; response: ShowSecretResponse };
  "update-secret": { request: UpdateSecretRequest; response: UpdateSecretResponse };
  "delete-secret": { request: DeleteSecretRequest; response: DeleteSecretResponse };
  "delete-secret-for-schedule": { request: DeleteSecretForScheduleRequest; response: DeleteSecretForScheduleResponse };
  "restore-secret": { request: RestoreSecretRequest; response: RestoreSecretResponse };
  "create-secret-version": { request: CreateSecretVersionRequest; response: CreateSecretVersionResponse };
  "list-secret-versions": { request: ListSecretVersionsRequest; response: ListSecretVersionsResponse };
  "show-secret-version": { request: ShowSecretVersionRequest; response: ShowSecretVersionResponse };
  "update-secret-version": { request: UpdateSecretVersionRequest; response: UpdateSecretVersionResponse };
  "update-secret-stage": { request: UpdateSecretStageRequest; response: UpdateSecretStageResponse };
  "show-secret-stage": { request: ShowSecretStageRequest; response: ShowSecretStageResponse };
  "delete-secret-stage": { request: DeleteSecretStageRequest; response: DeleteSecretStageResponse };
  "create-secret-tag": { request: CreateSecretTagRequest; response: CreateSecretTagResponse };
  "batch-create-or-delete-secret-tags": { request: BatchCreateOrDeleteSecretTagsRequest; response: BatchCreateOrDeleteSecretTagsResponse };
  "delete-secret-tag": { request: DeleteSecretTagRequest; response: DeleteSecretTagResponse };
  "list-secret-tags": { request: ListSecretTagsRequest; response: ListSecretTagsResponse };
  "list-project-secrets-tags": { request: ListProjectSecretsTagsRequest; response: ListProjectSecretsTagsResponse };
  "list-secret-resource-instances": { request: ListSecretResourceInstancesRequest; response: ListSecretResourceInstancesResponse };
  "generate-random-password": { request: GenerateRandomPasswordRequest; response: GenerateRandomPasswordResponse };
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
  /** POST /v1.0/{project_id}/kms/get-parameters-for-import */
  getParametersForImport(input: GetParametersForImportRequest, options?: CallOptions): Promise<GetParametersForImportResponse>;
  /** POST /v1.0/{project_id}/kms/import-key-material */
  importKeyMaterial(input: ImportKeyMaterialRequest, options?: CallOptions): Promise<ImportKeyMaterialResponse>;
  /** POST /v1.0/{project_id}/kms/delete-imported-key-material */
  deleteImportedKeyMaterial(input: DeleteImportedKeyMaterialRequest, options?: CallOptions): Promise<DeleteImportedKeyMaterialResponse>;
  /** POST /v1.0/{project_id}/keystores */
  createKeystore(input: CreateKeystoreRequest, options?: CallOptions): Promise<CreateKeystoreResponse>;
  /** GET /v1.0/{project_id}/keystores */
  listKeystores(input?: ListKeystoresRequest, options?: CallOptions): Promise<ListKeystoresResponse>;
  /** GET /v1.0/{project_id}/keystores/{keystore_id} */
  showKeystore(input: ShowKeystoreRequest, options?: CallOptions): Promise<ShowKeystoreResponse>;
  /** POST /v1.0/{project_id}/keystores/{keystore_id}/enable */
  enableKeystore(input: EnableKeystoreRequest, options?: CallOptions): Promise<EnableKeystoreResponse>;
  /** POST /v1.0/{project_id}/keystores/{keystore_id}/disable */
  disableKeystore(input: DisableKeystoreRequest, options?: CallOptions): Promise<DisableKeystoreResponse>;
  /** DELETE /v1.0/{project_id}/keystores/{keystore_id} */
  deleteKeystore(input: DeleteKeystoreRequest, options?: CallOptions): Promise<DeleteKeystoreResponse>;
  /** GET /v2/{project_id}/kms/regions */
  listSupportRegions(input?: ListSupportRegionsRequest, options?: CallOptions): Promise<ListSupportRegionsResponse>;
  /** POST /v2/{project_id}/kms/keys/{key_id}/replicate */
  replicateKey(input: ReplicateKeyRequest, options?: CallOptions): Promise<ReplicateKeyResponse>;
  /** PUT /v2/{project_id}/kms/keys/{key_id}/update-primary-region */
  updatePrimaryRegion(input: UpdatePrimaryRegionRequest, options?: CallOptions): Promise<UpdatePrimaryRegionResponse>;
  /** GET /v3/{project_id}/traces */
  listTraces(input: ListTracesRequest, options?: CallOptions): Promise<ListTracesResponse>;
  /** POST /v1.0/{project_id}/kms/{key_id}/tags */
  createKmsTag(input: CreateKmsTagRequest, options?: CallOptions): Promise<void>;
  /** POST /v1.0/{project_id}/kms/{key_id}/tags/action */
  batchCreateKmsTags(input: BatchCreateKmsTagsRequest, options?: CallOptions): Promise<void>;
  /** DELETE /v1.0/{project_id}/kms/{key_id}/tags/{key} */
  deleteTag(input: DeleteTagRequest, options?: CallOptions): Promise<void>;
  /** GET /v1.0/{project_id}/kms/{key_id}/tags */
  showKmsTags(input: ShowKmsTagsRequest, options?: CallOptions): Promise<ShowKmsTagsResponse>;
  /** GET /v1.0/{project_id}/kms/tags */
  listKmsTags(input?: ListKmsTagsRequest, options?: CallOptions): Promise<ListKmsTagsResponse>;
  /** POST /v1.0/{project_id}/kms/resource_instances/action */
  listKmsByTags(input: ListKmsByTagsRequest, options?: CallOptions): Promise<ListKmsByTagsResponse>;
  /** POST /v1.0/{project_id}/kms/aliases */
  createAlias(input: CreateAliasRequest, options?: CallOptions): Promise<CreateAliasResponse>;
  /** GET /v1.0/{project_id}/kms/aliases */
  listAliases(input?: ListAliasesRequest, options?: CallOptions): Promise<ListAliasesResponse>;
  /** DELETE /v1.0/{project_id}/kms/aliases */
  deleteAlias(input: DeleteAliasRequest, options?: CallOptions): Promise<void>;
  /** POST /v1.0/{project_id}/kms/alias/associate */
  associateAlias(input: AssociateAliasRequest, options?: CallOptions): Promise<AssociateAliasResponse>;
  /** POST /v1.0/{project_id}/kms/sign */
  sign(input: SignRequest, options?: CallOptions): Promise<SignResponse>;
  /** POST /v1.0/{project_id}/kms/verify */
  verify(input: VerifyRequest, options?: CallOptions): Promise<VerifyResponse>;
  /** POST /v1.0/{project_id}/kms/get-publickey */
  getPublickey(input: GetPublickeyRequest, options?: CallOptions): Promise<GetPublickeyResponse>;
  /** POST /v1.0/{project_id}/kms/generate-mac */
  generateMac(input: GenerateMacRequest, options?: CallOptions): Promise<GenerateMacResponse>;
  /** POST /v1.0/{project_id}/kms/verify-mac */
  verifyMac(input: VerifyMacRequest, options?: CallOptions): Promise<VerifyMacResponse>;
  /** POST /v1.0/{project_id}/kms/create-rsa-datakey-pair */
  createRsaDatakeyPair(input: CreateRsaDatakeyPairRequest, options?: CallOptions): Promise<CreateRsaDatakeyPairResponse>;
  /** POST /v1.0/{project_id}/kms/create-ec-datakey-pair */
  createEcDatakeyPair(input: CreateEcDatakeyPairRequest, options?: CallOptions): Promise<CreateEcDatakeyPairResponse>;
  /** POST /v1.0/{project_id}/kms/re-encrypt */
  reEncrypt(input: ReEncryptRequest, options?: CallOptions): Promise<ReEncryptResponse>;
  /** POST /v1.0/{project_id}/kms/create-pin */
  createPin(input?: CreatePinRequest, options?: CallOptions): Promise<CreatePinResponse>;
  /** POST /v1/{project_id}/secrets */
  createSecret(input: CreateSecretRequest, options?: CallOptions): Promise<CreateSecretResponse>;
  /** GET /v1/{project_id}/secrets */
  listSecrets(input?: ListSecretsRequest, options?: CallOptions): Promise<ListSecretsResponse>;
  /** GET /v1/{project_id}/secrets/{secret_name} */
  showSecret(input: ShowSecretRequest, options?: CallOptions): Promise<ShowSecretResponse>;
  /** PUT /v1/{project_id}/secrets/{secret_name} */
  updateSecret(input: UpdateSecretRequest, options?: CallOptions): Promise<UpdateSecretResponse>;
  /** DELETE /v1/{project_id}/secrets/{secret_name} */
  deleteSecret(input: DeleteSecretRequest, options?: CallOptions): Promise<void>;
  /** POST /v1/{project_id}/secrets/{secret_name}/scheduled-deleted-tasks/create */
  deleteSecretForSchedule(input: DeleteSecretForScheduleRequest, options?: CallOptions): Promise<DeleteSecretForScheduleResponse>;
  /** POST /v1/{project_id}/secrets/{secret_name}/scheduled-deleted-tasks/cancel */
  restoreSecret(input: RestoreSecretRequest, options?: CallOptions): Promise<RestoreSecretResponse>;
  /** POST /v1/{project_id}/secrets/{secret_name}/versions */
  createSecretVersion(input: CreateSecretVersionRequest, options?: CallOptions): Promise<CreateSecretVersionResponse>;
  /** GET /v1/{project_id}/secrets/{secret_name}/versions */
  listSecretVersions(input: ListSecretVersionsRequest, options?: CallOptions): Promise<ListSecretVersionsResponse>;
  /** GET /v1/{project_id}/secrets/{secret_name}/versions/{version_id} */
  showSecretVersion(input: ShowSecretVersionRequest, options?: CallOptions): Promise<ShowSecretVersionResponse>;
  /** PUT /v1/{project_id}/secrets/{secret_name}/versions/{version_id} */
  updateSecretVersion(input: UpdateSecretVersionRequest, options?: CallOptions): Promise<UpdateSecretVersionResponse>;
  /** PUT /v1/{project_id}/secrets/{secret_name}/stages/{stage_name} */
  updateSecretStage(input: UpdateSecretStageRequest, options?: CallOptions): Promise<UpdateSecretStageResponse>;
  /** GET /v1/{project_id}/secrets/{secret_name}/stages/{stage_name} */
  showSecretStage(input: ShowSecretStageRequest, options?: CallOptions): Promise<ShowSecretStageResponse>;
  /** DELETE /v1/{project_id}/secrets/{secret_name}/stages/{stage_name} */
  deleteSecretStage(input: DeleteSecretStageRequest, options?: CallOptions): Promise<void>;
  /** POST /v1/{project_id}/csms/{secret_id}/tags */
  createSecretTag(input: CreateSecretTagRequest, options?: CallOptions): Promise<void>;
  /** POST /v1/{project_id}/csms/{secret_id}/tags/action */
  batchCreateOrDeleteSecretTags(input: BatchCreateOrDeleteSecretTagsRequest, options?: CallOptions): Promise<void>;
  /** DELETE /v1/{project_id}/csms/{secret_id}/tags/{key} */
  deleteSecretTag(input: DeleteSecretTagRequest, options?: CallOptions): Promise<void>;
  /** GET /v1/{project_id}/csms/{secret_id}/tags */
  listSecretTags(input: ListSecretTagsRequest, options?: CallOptions): Promise<ListSecretTagsResponse>;
  /** GET /v1/{project_id}/csms/tags */
  listProjectSecretsTags(input?: ListProjectSecretsTagsRequest, options?: CallOptions): Promise<ListProjectSecretsTagsResponse>;
  /** POST /v1/{project_id}/csms/resource_instances/action */
  listSecretResourceInstances(input: ListSecretResourceInstancesRequest, options?: CallOptions): Promise<ListSecretResourceInstancesResponse>;
  /** POST /v1/{project_id}/csms/generate-password */
  generateRandomPassword(input?: GenerateRandomPasswordRequest, options?: CallOptions): Promise<GenerateRandomPasswordResponse>;
  /** Every item of list-keys, page after page (key_details). */
  paginateKeys(input?: Omit<ListKeysRequest, 'marker'>, options?: CallOptions): AsyncIterable<NonNullable<ListKeysResponse["key_details"]>[number]>;
  /** Every item of list-grants, page after page (grants). */
  paginateGrants(input: Omit<ListGrantsRequest, 'marker'>, options?: CallOptions): AsyncIterable<NonNullable<ListGrantsResponse["grants"]>[number]>;
  /** Every item of list-retirable-grants, page after page (grants). */
  paginateRetirableGrants(input?: Omit<ListRetirableGrantsRequest, 'marker'>, options?: CallOptions): AsyncIterable<NonNullable<ListRetirableGrantsResponse["grants"]>[number]>;
  /** Every item of list-aliases, page after page (aliases). */
  paginateAliases(input?: Omit<ListAliasesRequest, 'marker'>, options?: CallOptions): AsyncIterable<NonNullable<ListAliasesResponse["aliases"]>[number]>;
  /** Every item of list-secrets, page after page (secrets). */
  paginateSecrets(input?: Omit<ListSecretsRequest, 'marker'>, options?: CallOptions): AsyncIterable<NonNullable<ListSecretsResponse["secrets"]>[number]>;
  /** Every item of list-secret-versions, page after page (version_metadatas). */
  paginateSecretVersions(input: Omit<ListSecretVersionsRequest, 'marker'>, options?: CallOptions): AsyncIterable<NonNullable<ListSecretVersionsResponse["version_metadatas"]>[number]>;
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
  {"name":"get-parameters-for-import","clientMethod":"getParametersForImport","method":"POST","path":"/v1.0/{project_id}/kms/get-parameters-for-import","query":[],"status":200,"idempotent":true},
  {"name":"import-key-material","clientMethod":"importKeyMaterial","method":"POST","path":"/v1.0/{project_id}/kms/import-key-material","query":[],"status":200,"idempotent":false},
  {"name":"delete-imported-key-material","clientMethod":"deleteImportedKeyMaterial","method":"POST","path":"/v1.0/{project_id}/kms/delete-imported-key-material","query":[],"status":200,"idempotent":false},
  {"name":"create-keystore","clientMethod":"createKeystore","method":"POST","path":"/v1.0/{project_id}/keystores","query":[],"status":200,"idempotent":false},
  {"name":"list-keystores","clientMethod":"listKeystores","method":"GET","path":"/v1.0/{project_id}/keystores","query":["limit","offset"],"status":200,"idempotent":true},
  {"name":"show-keystore","clientMethod":"showKeystore","method":"GET","path":"/v1.0/{project_id}/keystores/{keystore_id}","query":[],"status":200,"idempotent":true},
  {"name":"enable-keystore","clientMethod":"enableKeystore","method":"POST","path":"/v1.0/{project_id}/keystores/{keystore_id}/enable","query":[],"status":200,"idempotent":false},
  {"name":"disable-keystore","clientMethod":"disableKeystore","method":"POST","path":"/v1.0/{project_id}/keystores/{keystore_id}/disable","query":[],"status":200,"idempotent":false},
  {"name":"delete-keystore","clientMethod":"deleteKeystore","method":"DELETE","path":"/v1.0/{project_id}/keystores/{keystore_id}","query":[],"status":200,"idempotent":false},
  {"name":"list-support-regions","clientMethod":"listSupportRegions","method":"GET","path":"/v2/{project_id}/kms/regions","query":["limit","offset"],"status":200,"idempotent":true},
  {"name":"replicate-key","clientMethod":"replicateKey","method":"POST","path":"/v2/{project_id}/kms/keys/{key_id}/replicate","query":[],"status":200,"idempotent":false},
  {"name":"update-primary-region","clientMethod":"updatePrimaryRegion","method":"PUT","path":"/v2/{project_id}/kms/keys/{key_id}/update-primary-region","query":[],"status":200,"idempotent":false},
  {"name":"list-traces","clientMethod":"listTraces","method":"GET","path":"/v3/{project_id}/traces","query":["trace_type","limit","from","to","next","trace_id","user","resource_id","trace_name","trace_rating","service_type"],"status":200,"idempotent":true},
  {"name":"create-kms-tag","clientMethod":"createKmsTag","method":"POST","path":"/v1.0/{project_id}/kms/{key_id}/tags","query":[],"status":204,"idempotent":false},
  {"name":"batch-create-kms-tags","clientMethod":"batchCreateKmsTags","method":"POST","path":"/v1.0/{project_id}/kms/{key_id}/tags/action","query":[],"status":204,"idempotent":false},
  {"name":"delete-tag","clientMethod":"deleteTag","method":"DELETE","path":"/v1.0/{project_id}/kms/{key_id}/tags/{key}","query":[],"status":204,"idempotent":false},
  {"name":"show-kms-tags","clientMethod":"showKmsTags","method":"GET","path":"/v1.0/{project_id}/kms/{key_id}/tags","query":[],"status":200,"idempotent":true},
  {"name":"list-kms-tags","clientMethod":"listKmsTags","method":"GET","path":"/v1.0/{project_id}/kms/tags","query":[],"status":200,"idempotent":true},
  {"name":"list-kms-by-tags","clientMethod":"listKmsByTags","method":"POST","path":"/v1.0/{project_id}/kms/resource_instances/action","query":[],"status":200,"idempotent":true},
  {"name":"create-alias","clientMethod":"createAlias","method":"POST","path":"/v1.0/{project_id}/kms/aliases","query":[],"status":201,"idempotent":false},
  {"name":"list-aliases","clientMethod":"listAliases","method":"GET","path":"/v1.0/{project_id}/kms/aliases","query":["key_id","limit","marker"],"status":200,"idempotent":true},
  {"name":"delete-alias","clientMethod":"deleteAlias","method":"DELETE","path":"/v1.0/{project_id}/kms/aliases","query":[],"status":204,"idempotent":false},
  {"name":"associate-alias","clientMethod":"associateAlias","method":"POST","path":"/v1.0/{project_id}/kms/alias/associate","query":[],"status":200,"idempotent":false},
  {"name":"sign","clientMethod":"sign","method":"POST","path":"/v1.0/{project_id}/kms/sign","query":[],"status":200,"idempotent":true},
  {"name":"verify","clientMethod":"verify","method":"POST","path":"/v1.0/{project_id}/kms/verify","query":[],"status":200,"idempotent":true},
  {"name":"get-publickey","clientMethod":"getPublickey","method":"POST","path":"/v1.0/{project_id}/kms/get-publickey","query":[],"status":200,"idempotent":true},
  {"name":"generate-mac","clientMethod":"generateMac","method":"POST","path":"/v1.0/{project_id}/kms/generate-mac","query":[],"status":200,"idempotent":true},
  {"name":"verify-mac","clientMethod":"verifyMac","method":"POST","path":"/v1.0/{project_id}/kms/verify-mac","query":[],"status":200,"idempotent":true},
  {"name":"create-rsa-datakey-pair","clientMethod":"createRsaDatakeyPair","method":"POST","path":"/v1.0/{project_id}/kms/create-rsa-datakey-pair","query":[],"status":200,"idempotent":true},
  {"name":"create-ec-datakey-pair","clientMethod":"createEcDatakeyPair","method":"POST","path":"/v1.0/{project_id}/kms/create-ec-datakey-pair","query":[],"status":200,"idempotent":true},
  {"name":"re-encrypt","clientMethod":"reEncrypt","method":"POST","path":"/v1.0/{project_id}/kms/re-encrypt","query":[],"status":200,"idempotent":true},
  {"name":"create-pin","clientMethod":"createPin","method":"POST","path":"/v1.0/{project_id}/kms/create-pin","query":[],"status":200,"idempotent":true},
  {"name":"create-secret","clientMethod":"createSecret","method":"POST","path":"/v1/{project_id}/secrets","query":[],"status":200,"idempotent":false},
  {"name":"list-secrets","clientMethod":"listSecrets","method":"GET","path":"/v1/{project_id}/secrets","query":["limit","marker","event_name"],"status":200,"idempotent":true},
  {"name":"show-secret","clientMethod":"showSecret","method":"GET","path":"/v1/{project_id}/secrets/{secret_name}","query":[],"status":200,"idempotent":true},
  {"name":"update-secret","clientMethod":"updateSecret","method":"PUT","path":"/v1/{project_id}/secrets/{secret_name}","query":[],"status":200,"idempotent":false},
  {"name":"delete-secret","clientMethod":"deleteSecret","method":"DELETE","path":"/v1/{project_id}/secrets/{secret_name}","query":[],"status":204,"idempotent":false},
  {"name":"delete-secret-for-schedule","clientMethod":"deleteSecretForSchedule","method":"POST","path":"/v1/{project_id}/secrets/{secret_name}/scheduled-deleted-tasks/create","query":[],"status":200,"idempotent":false},
  {"name":"restore-secret","clientMethod":"restoreSecret","method":"POST","path":"/v1/{project_id}/secrets/{secret_name}/scheduled-deleted-tasks/cancel","query":[],"status":200,"idempotent":false},
  {"name":"create-secret-version","clientMethod":"createSecretVersion","method":"POST","path":"/v1/{project_id}/secrets/{secret_name}/versions","query":[],"status":200,"idempotent":false},
  {"name":"list-secret-versions","clientMethod":"listSecretVersions","method":"GET","path":"/v1/{project_id}/secrets/{secret_name}/versions","query":["marker","limit"],"status":200,"idempotent":true},
  {"name":"show-secret-version","clientMethod":"showSecretVersion","method":"GET","path":"/v1/{project_id}/secrets/{secret_name}/versions/{version_id}","query":[],"status":200,"idempotent":true},
  {"name":"update-secret-version","clientMethod":"updateSecretVersion","method":"PUT","path":"/v1/{project_id}/secrets/{secret_name}/versions/{version_id}","query":[],"status":200,"idempotent":false},
  {"name":"update-secret-stage","clientMethod":"updateSecretStage","method":"PUT","path":"/v1/{project_id}/secrets/{secret_name}/stages/{stage_name}","query":[],"status":200,"idempotent":false},
  {"name":"show-secret-stage","clientMethod":"showSecretStage","method":"GET","path":"/v1/{project_id}/secrets/{secret_name}/stages/{stage_name}","query":[],"status":200,"idempotent":true},
  {"name":"delete-secret-stage","clientMethod":"deleteSecretStage","method":"DELETE","path":"/v1/{project_id}/secrets/{secret_name}/stages/{stage_name}","query":[],"status":204,"idempotent":false},
  {"name":"create-secret-tag","clientMethod":"createSecretTag","method":"POST","path":"/v1/{project_id}/csms/{secret_id}/tags","query":[],"status":204,"idempotent":false},
  {"name":"batch-create-or-delete-secret-tags","clientMethod":"batchCreateOrDeleteSecretTags","method":"POST","path":"/v1/{project_id}/csms/{secret_id}/tags/action","query":[],"status":204,"idempotent":false},
  {"name":"delete-secret-tag","clientMethod":"deleteSecretTag","method":"DELETE","path":"/v1/{project_id}/csms/{secret_id}/tags/{key}","query":[],"status":204,"idempotent":false},
  {"name":"list-secret-tags","clientMethod":"listSecretTags","method":"GET","path":"/v1/{project_id}/csms/{secret_id}/tags","query":[],"status":200,"idempotent":true},
  {"name":"list-project-secrets-tags","clientMethod":"listProjectSecretsTags","method":"GET","path":"/v1/{project_id}/csms/tags","query":[],"status":200,"idempotent":true},
  {"name":"list-secret-resource-instances","clientMethod":"listSecretResourceInstances","method":"POST","path":"/v1/{project_id}/csms/resource_instances/action","query":[],"status":200,"idempotent":true},
  {"name":"generate-random-password","clientMethod":"generateRandomPassword","method":"POST","path":"/v1/{project_id}/csms/generate-password","query":[],"status":200,"idempotent":true},
] as const;

export const PAGINATORS = [
  {"method":"paginateKeys","operation":"list-keys","items":"key_details","nextMarker":["next_marker"]},
  {"method":"paginateGrants","operation":"list-grants","items":"grants","nextMarker":["next_marker"]},
  {"method":"paginateRetirableGrants","operation":"list-retirable-grants","items":"grants","nextMarker":["next_marker"]},
  {"method":"paginateAliases","operation":"list-aliases","items":"aliases","nextMarker":["page_info","next_marker"]},
  {"method":"paginateSecrets","operation":"list-secrets","items":"secrets","nextMarker":["page_info","next_marker"]},
  {"method":"paginateSecretVersions","operation":"list-secret-versions","items":"version_metadatas","nextMarker":["page_info","next_marker"]},
] as const;

export type OperationName = keyof Operations;
