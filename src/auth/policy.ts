/**
 * IAM policies, as kmsd keeps them: a user holds a list of action patterns
 * ("service:resource:action", each part a glob where * matches anything) or the names of
 * Huawei's system roles. A user is allowed an action when any pattern matches any of the
 * names the operation's action goes by (Huawei's and OTC's names differ, e.g.
 * kms:cmk:retireGrant and kms:grant:retire).
 */
const ROLES: Record<string, string> = {
  'Tenant Administrator': '*:*:*',
  'KMS Administrator': 'kms:*:*',
  'KMS CMKFullAccess': 'kms:*:*',
  'DEW KeypairFullAccess': 'kms:*:*',
};

// Huawei spells some actions with an empty resource type (kms::listRetirableGrants, kms::generateRandom).
const PATTERN = /^[A-Za-z0-9*]+:[A-Za-z0-9*]*:[A-Za-z0-9*]+$/;

export function isValidPolicy(policy: string): boolean {
  return policy in ROLES || PATTERN.test(policy);
}

const compiled = new Map<string, RegExp>();

function toRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    const source = pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^:]*');
    re = new RegExp(`^${source}$`, 'i');
    compiled.set(pattern, re);
  }
  return re;
}

export function allows(policies: readonly string[], actions: readonly string[]): boolean {
  for (const policy of policies) {
    const re = toRegExp(ROLES[policy] ?? policy);
    if (actions.some((action) => re.test(action))) return true;
  }
  return false;
}
