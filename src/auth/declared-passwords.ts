import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { User } from '../core/model.ts';
import type { Store, Tx } from '../store/store.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

/**
 * The passwords of a declared identities file, checked after the node listens rather than
 * before (DECISIONS.declaredPasswordsCheckedAfterListen). Whether the file's password is the
 * user's stored one takes scrypt (~40–50 ms a user), and nothing faster that could confirm a
 * password is ever stored; so the start only marks each such user "unchecked" (a setting that
 * holds the start's id and the hash it found, nothing about the password), listens, and checks
 * them on libuv's pool. A password login for a marked user, on any event loop or node, waits
 * until that user's mark is gone (its check committed), and is then checked against the hash
 * in force. A reload (SIGHUP) checks every password before it commits and clears every mark;
 * a check whose mark is no longer its own (a reload, another node's start) writes nothing.
 */
export const PASSWORD_UNCHECKED = 'password-unchecked:';

/** A declared password whose stored hash the start did not check. */
export interface UncheckedPassword {
  userId: string;
  password: string;
  /** The hash stored when the start marked the user (null: it had none). */
  hash: string | null;
}

/** What the start writes, so that a check only ever finishes its own mark. */
export const uncheckedMark = (start: string, hash: string | null): string => `${start}\n${hash ?? ''}`;

/** One start's marks: its id, and the passwords applyIdentities left unchecked. */
export class DeferredPasswords {
  readonly start = randomBytes(16).toString('hex');
  readonly unchecked: UncheckedPassword[] = [];
}

/** How long a failed check (the store did not answer) waits before it is tried again. */
const RETRY_MS = 1000;

/**
 * Checks every unchecked password on libuv's pool, all at once (a login waits for its own user
 * only), and commits each result with its mark's removal. Retries on a store error until
 * stop() is called; stop() lets the checks under way commit (a node that stops does not leave
 * the other nodes' logins waiting) and stops the retries.
 */
export function checkDeclaredPasswords(store: Store, deferred: DeferredPasswords, logger: Logger | false): { stop(): Promise<void>; done: Promise<void> } {
  let stopped = false;
  const waiting = new Set<() => void>();
  const checkOne = async (entry: UncheckedPassword): Promise<void> => {
    const same = entry.hash !== null && (await verifyPassword(entry.password, entry.hash));
    const replacement = same ? null : await hashPassword(entry.password);
    for (;;) {
      try {
        await store.write(async (tx) => {
          const name = PASSWORD_UNCHECKED + entry.userId;
          if ((await tx.getSetting(name)) !== uncheckedMark(deferred.start, entry.hash)) return;
          const user = await tx.getUser(entry.userId);
          if (replacement !== null && user && user.passwordHash === entry.hash) await tx.updateUser({ ...user, passwordHash: replacement });
          await tx.deleteSettings(name);
        });
        return;
      } catch (error) {
        // A node that stops leaves the mark; its next start (or any node's) clears it.
        if (stopped) return;
        if (logger) logger.error({ err: error }, 'checking a declared password failed; trying again');
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            waiting.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, RETRY_MS);
          waiting.add(wake);
        });
        if (stopped) return;
      }
    }
  };
  const done = Promise.all(deferred.unchecked.map(checkOne)).then(() => undefined);
  done.catch((error: unknown) => logger && logger.error({ err: error }, 'checking the declared passwords failed'));
  return {
    done,
    async stop() {
      stopped = true;
      for (const wake of [...waiting]) wake();
      await done.catch(() => undefined);
    },
  };
}

/** How often a login for a user whose declared password is being checked looks again. */
const POLL_MS = 5;

/** Whether the user's declared password waits for its check (read with the user, in the login's read). */
export const passwordUnchecked = async (tx: Tx, userId: string): Promise<boolean> => (await tx.getSetting(PASSWORD_UNCHECKED + userId)) !== null;

/**
 * The user as a password login must see it, once the check of its declared password is
 * committed (by this node or another). Null when the user is gone; throws when the wait
 * outlasts `maxWaitMs` (the store or the check is stuck).
 */
export async function userWithCheckedPassword(store: Store, userId: string, maxWaitMs: number): Promise<User | null> {
  const until = performance.now() + maxWaitMs;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const found = await store.read(async (tx) => ({ unchecked: await passwordUnchecked(tx, userId), user: await tx.getUser(userId) }));
    if (!found.unchecked || found.user === null) return found.user;
    if (performance.now() >= until) throw new PasswordCheckPending();
  }
}

/** A login that waited too long for its user's password check: 503, try again. */
export class PasswordCheckPending extends Error {}
