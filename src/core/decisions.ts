/**
 * The decisions DESIGN.md §2 takes where the public documentation is silent, in one place,
 * so that one changes in one spot if evidence about the real service appears. Tests name
 * these constants rather than repeating the codes.
 */
export const DECISIONS = {
  /** Caller may not retire / revoke / create-grant / use the key. */
  callerMayNot: 'KMS.0306',
  /** key_id well-formed but no such key (also: a key whose pending deletion has expired). */
  noSuchKey: 'KMS.0207',
  /** grant_id well-formed but no live grant with that id; also an already ended grant. */
  noSuchGrant: 'KMS.2501',
  /** The grant exists, on another key. */
  grantOnAnotherKey: 'KMS.2502',
  /** create-grant on a key that is not enabled, by state. */
  createGrantOnState: { '1': 'KMS.0308', '3': 'KMS.0209', '4': 'KMS.0210', '5': 'KMS.0308' },
  /** Keys whose alias ends in /default cannot be granted (nor disabled, renamed, ...). */
  defaultKey: 'KMS.0211',
  /** Unknown `operations` value, unknown grantee_principal_type. */
  unknownEnumValue: 'KMS.0308',
  /** Principal id not ^[a-zA-Z0-9]{1,64}$. */
  badPrincipal: 'KMS.2402',
  /** Grants per key before KMS.2404 (configurable with --max-grants-per-key). */
  grantsPerKey: 100,
  tooManyGrants: 'KMS.2404',
  /** Largest page a list call may ask for. */
  maxLimit: 1000,
  /**
   * An explicit Deny in the caller's own identity policies (matching the operation's action,
   * the key and its conditions) refuses the call even when a grant would allow it. AWS KMS:
   * no principal has a permission unless it is "explicitly allowed, and never denied, in a key
   * policy, IAM policy, or grant"; Huawei's documentation is silent.
   */
  denyStopsGrants: true,
} as const;
