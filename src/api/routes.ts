import type { Operation } from './operation.ts';
import createDatakey from './operations/create-datakey.ts';
import createDatakeyWithoutPlaintext from './operations/create-datakey-without-plaintext.ts';
import decryptData from './operations/decrypt-data.ts';
import decryptDatakey from './operations/decrypt-datakey.ts';
import disableKeyRotation from './operations/disable-key-rotation.ts';
import enableKeyRotation from './operations/enable-key-rotation.ts';
import encryptData from './operations/encrypt-data.ts';
import encryptDatakey from './operations/encrypt-datakey.ts';
import genRandom from './operations/gen-random.ts';
import getKeyRotationStatus from './operations/get-key-rotation-status.ts';
import updateKeyRotationInterval from './operations/update-key-rotation-interval.ts';
import cancelKeyDeletion from './operations/cancel-key-deletion.ts';
import createGrant from './operations/create-grant.ts';
import createKey from './operations/create-key.ts';
import describeKey from './operations/describe-key.ts';
import disableKey from './operations/disable-key.ts';
import enableKey from './operations/enable-key.ts';
import listGrants from './operations/list-grants.ts';
import listKeys from './operations/list-keys.ts';
import listRetirableGrants from './operations/list-retirable-grants.ts';
import retireGrant from './operations/retire-grant.ts';
import revokeGrant from './operations/revoke-grant.ts';
import scheduleKeyDeletion from './operations/schedule-key-deletion.ts';
import updateKeyAlias from './operations/update-key-alias.ts';
import updateKeyDescription from './operations/update-key-description.ts';
import userInstances from './operations/user-instances.ts';
import userQuotas from './operations/user-quotas.ts';
import getParametersForImport from './operations/get-parameters-for-import.ts';
import importKeyMaterial from './operations/import-key-material.ts';
import deleteImportedKeyMaterial from './operations/delete-imported-key-material.ts';
import createKeystore from './operations/create-keystore.ts';
import listKeystores from './operations/list-keystores.ts';
import showKeystore from './operations/show-keystore.ts';
import enableKeystore from './operations/enable-keystore.ts';
import disableKeystore from './operations/disable-keystore.ts';
import deleteKeystore from './operations/delete-keystore.ts';
import listSupportRegions from './operations/list-support-regions.ts';
import replicateKey from './operations/replicate-key.ts';
import updatePrimaryRegion from './operations/update-primary-region.ts';
import listTraces from './operations/list-traces.ts';
import createKmsTag from './operations/create-kms-tag.ts';
import batchCreateKmsTags from './operations/batch-create-kms-tags.ts';
import deleteTag from './operations/delete-tag.ts';
import showKmsTags from './operations/show-kms-tags.ts';
import listKmsTags from './operations/list-kms-tags.ts';
import listKmsByTags from './operations/list-kms-by-tags.ts';
import createAlias from './operations/create-alias.ts';
import listAliases from './operations/list-aliases.ts';
import deleteAlias from './operations/delete-alias.ts';
import associateAlias from './operations/associate-alias.ts';
import sign from './operations/sign.ts';
import verify from './operations/verify.ts';
import getPublickey from './operations/get-publickey.ts';
import generateMac from './operations/generate-mac.ts';
import verifyMac from './operations/verify-mac.ts';
import createRsaDatakeyPair from './operations/create-rsa-datakey-pair.ts';
import createEcDatakeyPair from './operations/create-ec-datakey-pair.ts';
import reEncrypt from './operations/re-encrypt.ts';
import createPin from './operations/create-pin.ts';
import { CSMS_OPERATIONS } from './operations/csms/index.ts';

/** Every operation kmsd serves: KMS's (mounted at /v1.0/{project_id}/kms/<name> unless they say) and CSMS's. */
export const OPERATIONS: readonly Operation[] = [
  createKey, describeKey, listKeys, enableKey, disableKey, scheduleKeyDeletion, cancelKeyDeletion,
  updateKeyAlias, updateKeyDescription, userInstances, userQuotas,
  enableKeyRotation, disableKeyRotation, updateKeyRotationInterval, getKeyRotationStatus,
  createGrant, listGrants, listRetirableGrants, revokeGrant, retireGrant,
  encryptData, decryptData, createDatakey, createDatakeyWithoutPlaintext, encryptDatakey, decryptDatakey, genRandom,
  getParametersForImport, importKeyMaterial, deleteImportedKeyMaterial,
  createKeystore, listKeystores, showKeystore, enableKeystore, disableKeystore, deleteKeystore,
  listSupportRegions, replicateKey, updatePrimaryRegion,
  listTraces,
  createKmsTag, batchCreateKmsTags, deleteTag, showKmsTags, listKmsTags, listKmsByTags,
  createAlias, listAliases, deleteAlias, associateAlias,
  sign, verify, getPublickey, generateMac, verifyMac, createRsaDatakeyPair, createEcDatakeyPair, reEncrypt,
  createPin,
  ...CSMS_OPERATIONS,
];
