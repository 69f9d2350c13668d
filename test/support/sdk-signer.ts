import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

// The official Node SDK core, used as an independent AK/SK signer by the tests and the bench.
const require = createRequire(import.meta.url);
const { AKSKSigner } = require('@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner');
const { BasicCredentials } = require('@huaweicloud/huaweicloud-sdk-core/auth/BasicCredentials');

/** Headers the official Node SDK signer adds for this request (X-Sdk-Date, host, Authorization). */
export function signedHeaders(
  url: string, method: string, path: string, user: { ak: string; sk: string; projectId: string },
  headers: Record<string, string>, body: string | undefined,
): Record<string, string> {
  const [pathname, query] = path.split('?');
  const queryParams = Object.fromEntries(new URLSearchParams(query ?? ''));
  const credential = new BasicCredentials().withAk(user.ak).withSk(user.sk).withProjectId(user.projectId);
  const sent = { ...headers, 'X-Project-Id': user.projectId };
  // The SDK signer hashes JSON.stringify(data). A body that is not that (malformed JSON in
  // error tests) is declared through X-Sdk-Content-Sha256, which the signer then uses.
  let data: unknown = undefined;
  if (body !== undefined) {
    try {
      data = JSON.parse(body);
    } catch {
      data = undefined;
    }
    if (data === undefined || JSON.stringify(data) !== body) {
      data = undefined;
      Object.assign(sent, { 'X-Sdk-Content-Sha256': createHash('sha256').update(body).digest('hex') });
    }
  }
  const request = { endpoint: `${url}${pathname}`, method, headers: sent, queryParams, data };
  const signed = AKSKSigner.sign(request, credential) as Record<string, string>;
  return { ...sent, ...signed };
}

