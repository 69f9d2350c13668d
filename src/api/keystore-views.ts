import type { Keystore } from '../core/model.ts';
import { obj, str } from './operation.ts';

// Wire views of key stores, with the types the SDK models declare (KeystoreDetails,
// KeystoreInfo, KeyStoreStateInfo: every field a string; create_time in ms like every timestamp).

export const KEYSTORE_DETAILS_SCHEMA = obj({
  keystore_id: str, domain_id: str, keystore_alias: str, keystore_type: str, hsm_cluster_id: str, cluster_id: str, create_time: str,
});

export function keystoreDetails(k: Keystore): Record<string, string> {
  return {
    keystore_id: k.keystoreId,
    domain_id: k.accountId,
    keystore_alias: k.alias,
    keystore_type: k.type,
    hsm_cluster_id: k.hsmClusterId,
    cluster_id: k.clusterId,
    create_time: String(k.createTime),
  };
}

export const KEYSTORE_STATE_SCHEMA = obj({ keystore: obj({ keystore_id: str, keystore_state: str }) });
export const keystoreState = (k: Keystore) => ({ keystore: { keystore_id: k.keystoreId, keystore_state: k.state } });
