import type { Policy, PolicyResource, RequestValues } from '../core/model.ts';

/**
 * IAM policies, as kmsd keeps them. A user holds a list of:
 *
 * - action patterns ("service:resource:action", each part a glob where * matches anything) or
 *   the names of Huawei's system roles: each is one Allow statement for every key;
 * - Huawei IAM policy documents ({"Version": "5.0" | "1.1", "Statement": [...]}), with Effect
 *   Allow or Deny, Action or NotAction, Resource (key URNs, globs), and Condition.
 *
 * An operation goes by several action names (Huawei's and OTC's differ, e.g.
 * kms:cmk:retireGrant and kms:grant:retire): a statement names the operation when one of its
 * patterns matches one of them. A matching Deny wins over every Allow; otherwise a matching
 * Allow allows; otherwise the policies do not allow the call.
 */
const ROLES: Record<string, string> = {
  'Tenant Administrator': '*:*:*',
  'KMS Administrator': 'kms:*:*',
  'KMS CMKFullAccess': 'kms:*:*',
  'DEW KeypairFullAccess': 'kms:*:*',
};

// Huawei spells some actions with an empty resource type (kms::listRetirableGrants, kms::generateRandom).
const PATTERN = /^[A-Za-z0-9*]+:[A-Za-z0-9*]*:[A-Za-z0-9*]+$/;
/** Actions in documents: the same, or "*" alone. */
const DOCUMENT_ACTION = /^(\*|[A-Za-z0-9*]+:[A-Za-z0-9*]*:[A-Za-z0-9*]+)$/;
/** A resource URN, service:region:account:type:path (Huawei: "KMS:*:*:KeyId:<key id>"). */
const URN = /^[A-Za-z0-9*?]+:[^:]*:[^:]*:[A-Za-z0-9*?]+:[^:]+$/;

/** Own members only: "constructor", "toString", "__proto__" ... are names like any other, never Object's. */
const own = <T>(table: Readonly<Record<string, T>>, name: string): T | undefined => (Object.hasOwn(table, name) ? table[name] : undefined);

export function isValidPolicy(policy: string): boolean {
  return own(ROLES, policy) !== undefined || PATTERN.test(policy);
}

export class PolicyError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

// ---------------------------------------------------------------------------------------
// Condition keys and operators

/**
 * The condition keys kmsd evaluates. Key-level keys are absent for operations that name no key.
 * g:ResourceTag/<tag-key> is handled by prefix. Keys kmsd cannot evaluate are refused when the
 * file is read, never ignored.
 */
const CONDITION_KEYS = new Set([
  'kms:KeySpec', 'kms:KeyUsage', 'kms:KeyOrigin', 'kms:MultiRegionKeyType', 'g:EnterpriseProjectId',
  'kms:GrantOperations', 'kms:GranteePrincipal', 'kms:GranteePrincipalType', 'kms:RetiringPrincipal',
  'g:TagKeys', 'g:UserId', 'g:UserName', 'g:DomainId', 'g:DomainName', 'g:ProjectId', 'g:ProjectName', 'g:MFAPresent',
]);
const RESOURCE_TAG = 'g:ResourceTag/';
/** Of calls that write tags (create-key with tags, the tag operations): g:RequestTag/<tag-key>, and g:TagKeys. */
const REQUEST_TAG = 'g:RequestTag/';
const canonicalKey = new Map([...CONDITION_KEYS].map((k) => [k.toLowerCase(), k]));

/** Keys Huawei documents that kmsd does not evaluate (yet): named in the refusal. */
const NOT_EVALUATED = ['g:SourceIp', 'g:CurrentTime', 'kms:RequestAlias', 'kms:ResourceAliases', 'kms:MacAlgorithm'];

const STRING_OPERATORS = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'StringStartWith', 'StringEndWith', 'StringNotStartWith', 'StringNotEndWith',
] as const;
type Base = (typeof STRING_OPERATORS)[number] | 'Bool' | 'Null';

interface ParsedOperator {
  base: Base;
  set: 'any' | 'all' | null;
  ifExists: boolean;
}

function parseOperator(name: string): ParsedOperator | null {
  let rest = name;
  let set: ParsedOperator['set'] = null;
  if (rest.startsWith('ForAnyValue:')) [set, rest] = ['any', rest.slice('ForAnyValue:'.length)];
  else if (rest.startsWith('ForAllValues:')) [set, rest] = ['all', rest.slice('ForAllValues:'.length)];
  const ifExists = rest.endsWith('IfExists');
  if (ifExists) rest = rest.slice(0, -'IfExists'.length);
  if (rest === 'Null') return set === null && !ifExists ? { base: 'Null', set, ifExists } : null;
  if (rest === 'Bool') return set === null ? { base: 'Bool', set, ifExists } : null;
  return (STRING_OPERATORS as readonly string[]).includes(rest) ? { base: rest as Base, set, ifExists } : null;
}

const NEGATED = new Set<Base>(['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'StringNotStartWith', 'StringNotEndWith']);

function globRegExp(glob: string, flags = ''): RegExp {
  const source = [...glob].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, `s${flags}`);
}

/** Does one context value satisfy the positive form of the operator against one policy value? */
function matchesOne(base: Base, value: string, wanted: string): boolean {
  switch (base) {
    case 'StringEquals': case 'StringNotEquals': return value === wanted;
    case 'StringEqualsIgnoreCase': case 'StringNotEqualsIgnoreCase': return value.toLowerCase() === wanted.toLowerCase();
    case 'StringLike': case 'StringNotLike': return globRegExp(wanted).test(value);
    case 'StringStartWith': case 'StringNotStartWith': return value.startsWith(wanted);
    case 'StringEndWith': case 'StringNotEndWith': return value.endsWith(wanted);
    case 'Bool': return value.toLowerCase() === wanted.toLowerCase();
    default: return false;
  }
}

interface Condition {
  operator: string;
  op: ParsedOperator;
  key: string;
  values: string[];
}

/** Is the condition true for the context values of its key (undefined: the key is absent)? */
function holds(c: Condition, context: string[] | undefined): boolean {
  const { base, set, ifExists } = c.op;
  if (base === 'Null') return (c.values[0].toLowerCase() === 'true') === (context === undefined);
  if (context === undefined) {
    if (ifExists) return true;
    if (set === 'all') return true;
    if (set === 'any') return false;
    // As AWS documents: an absent key makes a positive test false and a negated one true.
    return NEGATED.has(base);
  }
  const negated = NEGATED.has(base);
  const satisfies = (value: string): boolean => {
    const any = c.values.some((wanted) => matchesOne(base, value, wanted));
    return negated ? !any : any;
  };
  if (set === 'all') return context.every(satisfies);
  if (set === 'any') return context.some(satisfies);
  // A single-valued test: positive when some value matches, negated when none does.
  const any = context.some((value) => c.values.some((wanted) => matchesOne(base, value, wanted)));
  return negated ? !any : any;
}

// ---------------------------------------------------------------------------------------
// Parsing (validation of the identities file)

interface Statement {
  /** Where the statement came from, for the explanations: policies[1].Statement[0]. */
  where: string;
  sid: string | null;
  effect: 'Allow' | 'Deny';
  actions: RegExp[];
  notAction: boolean;
  /** null: every resource. */
  resources: string[] | null;
  conditions: Condition[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const compiled = new Map<string, RegExp>();
function actionRegExp(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    const source = pattern === '*' ? '.*' : pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^:]*');
    re = new RegExp(`^${source}$`, 'i');
    compiled.set(pattern, re);
  }
  return re;
}

/** One string or a non-empty array of strings, as Huawei's grammar writes Action and Resource. */
function strings(value: unknown, path: string, what: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    throw new PolicyError(path, `must be ${what}, or a non-empty array of them`);
  }
  return list as string[];
}

const STATEMENT_MEMBERS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'Condition']);

function parseConditions(value: unknown, path: string): Condition[] {
  if (!isObject(value)) throw new PolicyError(path, 'must be an object of operators, e.g. {"StringEquals": {"kms:KeySpec": ["AES_256"]}}');
  const conditions: Condition[] = [];
  for (const [operator, block] of Object.entries(value)) {
    const at = `${path}.${operator}`;
    const op = parseOperator(operator);
    if (!op) throw new PolicyError(at, `unknown condition operator "${operator}" (kmsd evaluates ${STRING_OPERATORS.join(', ')}, Bool and Null, with IfExists and ForAnyValue:/ForAllValues: on string operators)`);
    if (!isObject(block) || Object.keys(block).length === 0) throw new PolicyError(at, 'must be a non-empty object of condition keys');
    for (const [name, raw] of Object.entries(block)) {
      const kat = `${at}["${name}"]`;
      let key: string;
      const tagPrefix = [RESOURCE_TAG, REQUEST_TAG].find((prefix) => name.toLowerCase().startsWith(prefix.toLowerCase()));
      if (tagPrefix) {
        const tag = name.slice(tagPrefix.length);
        if (tag.length === 0) throw new PolicyError(kat, `names no tag key (${tagPrefix}<tag-key>)`);
        key = tagPrefix + tag;
      } else {
        const known = canonicalKey.get(name.toLowerCase());
        if (!known) {
          const later = NOT_EVALUATED.find((k) => name.toLowerCase().startsWith(k.toLowerCase()));
          throw new PolicyError(kat, later ? `condition key "${name}" is documented by Huawei but not evaluated by kmsd` : `unknown condition key "${name}"`);
        }
        key = known;
      }
      const list = typeof raw === 'string' || typeof raw === 'boolean' ? [raw] : raw;
      if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' || typeof v === 'boolean')) {
        throw new PolicyError(kat, 'must be a string or a non-empty array of strings');
      }
      const values = (list as Array<string | boolean>).map(String);
      if ((op.base === 'Bool' || op.base === 'Null') && !values.every((v) => /^(true|false)$/i.test(v))) {
        throw new PolicyError(kat, `${op.base} takes "true" or "false"`);
      }
      if (op.base === 'Null' && values.length !== 1) throw new PolicyError(kat, 'Null takes one value');
      conditions.push({ operator, op, key, values });
    }
  }
  return conditions;
}

/**
 * Whether a Resource URN can name a key at all (service "kms", type "KeyId", or globs that
 * match them). One that cannot (kms:*:*:alias:*, obs:*:*:bucket:*) would load and never match,
 * silently: a Deny that denies nothing. Such a document is refused, never ignored.
 */
/** Whether a Resource can name something kmsd serves: a KMS key, or a CSMS secret (by name). */
function namesKeys(urn: string): boolean {
  const [service, , , type] = urn.split(':');
  return (globRegExp(service, 'i').test('kms') && globRegExp(type, 'i').test('KeyId')) ||
    (globRegExp(service, 'i').test('csms') && globRegExp(type, 'i').test('secret'));
}

function parseStatement(value: unknown, where: string): Statement {
  if (!isObject(value)) throw new PolicyError(where, 'must be an object with Effect and Action');
  for (const member of Object.keys(value)) {
    if (!STATEMENT_MEMBERS.has(member)) throw new PolicyError(`${where}.${member}`, `unknown statement member (kmsd reads ${[...STATEMENT_MEMBERS].join(', ')})`);
  }
  if (value.Sid !== undefined && typeof value.Sid !== 'string') throw new PolicyError(`${where}.Sid`, 'must be a string');
  if (value.Effect !== 'Allow' && value.Effect !== 'Deny') throw new PolicyError(`${where}.Effect`, 'must be "Allow" or "Deny"');
  if ((value.Action === undefined) === (value.NotAction === undefined)) throw new PolicyError(where, 'must have exactly one of Action and NotAction');
  const notAction = value.NotAction !== undefined;
  const member = notAction ? 'NotAction' : 'Action';
  const actions = strings(value[member], `${where}.${member}`, 'an action such as "kms:cmk:encryptData"');
  actions.forEach((a, i) => {
    if (!DOCUMENT_ACTION.test(a)) throw new PolicyError(`${where}.${member}[${i}]`, `"${a}" is not an action "service:resource:action" (letters, digits, *)`);
  });
  let resources: string[] | null = null;
  if (value.Resource !== undefined) {
    resources = strings(value.Resource, `${where}.Resource`, '"*" or a URN such as "kms:*:*:KeyId:<key id>"');
    resources.forEach((r, i) => {
      if (r !== '*' && !URN.test(r)) throw new PolicyError(`${where}.Resource[${i}]`, `"${r}" is not "*" nor a URN "service:region:account:type:id" such as "kms:*:*:KeyId:<key id>"`);
      if (r !== '*' && !namesKeys(r)) {
        throw new PolicyError(`${where}.Resource[${i}]`, `"${r}" names no resource kmsd can evaluate: its resources are keys, "kms:<region>:<account>:KeyId:<key id>", and secrets, "csms:<region>:<account>:secret:<name>" (globs allowed)`);
      }
    });
    if (resources.includes('*')) resources = null;
  }
  const conditions = value.Condition === undefined ? [] : parseConditions(value.Condition, `${where}.Condition`);
  return {
    where, sid: (value.Sid as string | undefined) ?? null, effect: value.Effect,
    actions: actions.map(actionRegExp), notAction, resources, conditions,
  };
}

const DOCUMENT_MEMBERS = new Set(['Version', 'Statement']);

/** Checks one policy document; the error's path is relative to the document ("Statement[0].Effect"). */
function parseDocument(value: Json, where: string): Statement[] {
  for (const member of Object.keys(value)) {
    if (!DOCUMENT_MEMBERS.has(member)) throw new PolicyError(`${where}.${member}`, 'unknown member (a policy document has Version and Statement)');
  }
  if (value.Version !== '5.0' && value.Version !== '1.1') throw new PolicyError(`${where}.Version`, 'must be "5.0" (identity policy) or "1.1" (custom policy)');
  if (!Array.isArray(value.Statement) || value.Statement.length === 0) throw new PolicyError(`${where}.Statement`, 'must be a non-empty array');
  return value.Statement.map((s: unknown, i: number) => parseStatement(s, `${where}.Statement[${i}]`));
}

const PATTERN_MESSAGE = 'must be an action pattern such as "kms:cmk:*" or a system role name';

/**
 * Checks one entry of a user's `policies`. Throws PolicyError with the path below the entry
 * ("" for the entry itself). Strings keep their historical message.
 */
export function checkPolicy(policy: unknown): void {
  compilePolicy(policy, 0);
}

function compilePolicy(policy: unknown, index: number): Statement[] {
  const where = `policies[${index}]`;
  if (typeof policy === 'string') {
    if (!isValidPolicy(policy)) throw new PolicyError(where, PATTERN_MESSAGE);
    return [{ where, sid: null, effect: 'Allow', actions: [actionRegExp(own(ROLES, policy) ?? policy)], notAction: false, resources: null, conditions: [] }];
  }
  if (!isObject(policy)) throw new PolicyError(where, `${PATTERN_MESSAGE}, or a policy document {"Version": "5.0", "Statement": [...]}`);
  return parseDocument(policy, where);
}

// ---------------------------------------------------------------------------------------
// Evaluation

/** Who asks, for the g: condition keys. */
export interface Subject {
  userId: string;
  userName: string;
  accountId: string;
  accountName: string;
  projectId: string;
  region: string;
}

export interface Verdict {
  allowed: boolean;
  /** A matching Deny statement: it refuses even what a grant allows. */
  denied: boolean;
  /** Which statement decided, or that none allowed, in words (for the log). */
  reason: string;
}

function urnOf(resource: PolicyResource): string {
  if (resource.secretName !== undefined) return `csms:${resource.region}:${resource.accountId}:secret:${resource.secretName}`;
  return `kms:${resource.region}:${resource.accountId}:KeyId:${resource.keyId ?? '*'}`;
}

function resourceMatches(patterns: string[] | null, resource: PolicyResource | null): boolean {
  if (patterns === null) return true;
  if (resource === null) return false; // an operation on no key needs "Resource": "*" (or none)
  const [service, region, account, type, id] = urnOf(resource).split(':');
  return patterns.some((pattern) => {
    const parts = pattern.split(':');
    if (parts.length !== 5) return false;
    const [ps, pr, pa, pt, pid] = parts;
    const seg = (p: string, v: string) => (p === '' ? v === '' : globRegExp(p, 'i').test(v));
    // create-key: the key has no id yet; a statement names it only with an id of "*".
    const idMatches = resource.keyId === null && resource.secretName === undefined ? pid === '*' : seg(pid, id);
    return seg(ps, service) && (pr === '' || seg(pr, region)) && (pa === '' || seg(pa, account)) && seg(pt, type) && idMatches;
  });
}

function contextValue(key: string, subject: Subject, resource: PolicyResource | null, request: RequestValues): string[] | undefined {
  if (key.startsWith(RESOURCE_TAG)) {
    const value = resource ? own(resource.tags, key.slice(RESOURCE_TAG.length)) : undefined;
    return value === undefined ? undefined : [value];
  }
  switch (key) {
    case 'kms:KeySpec': return resource ? [resource.spec] : undefined;
    case 'kms:KeyUsage': return resource ? [resource.usage] : undefined;
    case 'kms:KeyOrigin': return resource ? [resource.origin] : undefined;
    case 'g:EnterpriseProjectId': return resource ? ['0'] : undefined;
    case 'kms:MultiRegionKeyType': return undefined; // kmsd serves no multi-region keys
    case 'g:UserId': return [subject.userId];
    case 'g:UserName': return [subject.userName];
    case 'g:DomainId': return [subject.accountId];
    case 'g:DomainName': return [subject.accountName];
    case 'g:ProjectId': return [subject.projectId];
    case 'g:ProjectName': return [subject.region];
    case 'g:MFAPresent': return ['false'];
    default: {
      const value = own(request, key);
      return value === undefined ? undefined : typeof value === 'string' ? [value] : [...value];
    }
  }
}

function describe(s: Statement): string {
  return `${s.where}${s.sid ? ` (Sid "${s.sid}")` : ''}`;
}

/** A user's policies, compiled once and evaluated per operation and key. */
export class PolicySet {
  private readonly statements: Statement[];
  /** Some statement tests g:ResourceTag/...: only then are a key's tags read. */
  readonly readsTags: boolean;

  constructor(policies: readonly Policy[]) {
    this.statements = policies.flatMap((p, i) => compilePolicy(p, i));
    this.readsTags = this.statements.some((s) => s.conditions.some((c) => c.key.startsWith(RESOURCE_TAG)));
  }

  evaluate(actions: readonly string[], subject: Subject, resource: PolicyResource | null, request: RequestValues = {}): Verdict {
    let allowing: Statement | null = null;
    for (const s of this.statements) {
      const named = actions.some((a) => s.actions.some((re) => re.test(a)));
      if (named === s.notAction) continue;
      if (!resourceMatches(s.resources, resource)) continue;
      const failed = s.conditions.find((c) => !holds(c, contextValue(c.key, subject, resource, request)));
      if (failed) continue;
      if (s.effect === 'Deny') return { allowed: false, denied: true, reason: `denied by ${describe(s)}` };
      allowing ??= s;
    }
    if (allowing) return { allowed: true, denied: false, reason: `allowed by ${describe(allowing)}` };
    const on = resource === null ? '' : ` on ${urnOf(resource)}`;
    return { allowed: false, denied: false, reason: `no statement allows ${actions[actions.length - 1]}${on}` };
  }
}

const sets = new Map<string, PolicySet>();

/** The compiled policies of a user (kept by their JSON: users change rarely, requests often). */
export function policySet(policies: readonly Policy[]): PolicySet {
  const id = JSON.stringify(policies);
  let set = sets.get(id);
  if (!set) {
    set = new PolicySet(policies);
    if (sets.size >= 4096) sets.delete(sets.keys().next().value as string);
    sets.set(id, set);
  }
  return set;
}

/** Action-only check (kept for the callers that know no key): do the policies allow any of the actions? */
export function allows(policies: readonly Policy[], actions: readonly string[]): boolean {
  return policySet(policies).evaluate(actions, { userId: '', userName: '', accountId: '', accountName: '', projectId: '', region: '' }, null).allowed;
}
