import type { Operation } from '../../operation.ts';
import createSecret from './create-secret.ts';
import listSecrets from './list-secrets.ts';
import showSecret from './show-secret.ts';
import updateSecret from './update-secret.ts';
import deleteSecret from './delete-secret.ts';
import deleteSecretForSchedule from './delete-secret-for-schedule.ts';
import restoreSecret from './restore-secret.ts';
import createSecretVersion from './create-secret-version.ts';
import listSecretVersions from './list-secret-versions.ts';
import showSecretVersion from './show-secret-version.ts';
import updateSecretVersion from './update-secret-version.ts';
import updateSecretStage from './update-secret-stage.ts';
import showSecretStage from './show-secret-stage.ts';
import deleteSecretStage from './delete-secret-stage.ts';
import createSecretTag from './create-secret-tag.ts';
import batchCreateOrDeleteSecretTags from './batch-create-or-delete-secret-tags.ts';
import deleteSecretTag from './delete-secret-tag.ts';
import listSecretTags from './list-secret-tags.ts';
import listProjectSecretsTags from './list-project-secrets-tags.ts';
import listSecretResourceInstances from './list-secret-resource-instances.ts';
import generateRandomPassword from './generate-random-password.ts';

/** Every CSMS (secrets) operation kmsd serves, at Huawei's /v1/{project_id}/secrets and /v1/{project_id}/csms paths. */
export const CSMS_OPERATIONS: readonly Operation[] = [
  createSecret, listSecrets, showSecret, updateSecret, deleteSecret, deleteSecretForSchedule, restoreSecret,
  createSecretVersion, listSecretVersions, showSecretVersion, updateSecretVersion,
  updateSecretStage, showSecretStage, deleteSecretStage,
  createSecretTag, batchCreateOrDeleteSecretTags, deleteSecretTag, listSecretTags, listProjectSecretsTags, listSecretResourceInstances,
  generateRandomPassword,
];
