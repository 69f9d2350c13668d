// kmsd/client: a typed client for kmsd and Huawei Cloud KMS (see README "The TypeScript client", docs/client-and-cli.md).
export { KmsClient, type KmsClientOptions } from './client.ts';
export { KmsConnectionError, KmsError } from './errors.ts';
export { authorization, sdkDate } from './signer.ts';
export { pythonJson } from './json.ts';
export { OPERATIONS, PAGINATORS } from './operations.ts';
export type * from './operations.ts';
export type { CallOptions } from './types.ts';
