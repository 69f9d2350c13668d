import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A PostgreSQL group's units whose statements overlap (postgres.ts commitGroup). The pool runs
 * node-postgres in pipeline mode: a statement is written to the socket when it is handed over,
 * and PostgreSQL runs a connection's statements in the order they came. So a group need not wait
 * for a unit's answer before it sends the next unit's statements, once the unit has said that
 * the statement it sends is its last (Tx.lastStatementNext): the next unit starts then, and its
 * statements run after that one, as if it had waited. What the group needs to know of each unit
 * lives here, found through the async context the unit runs in (every statement a unit sends is
 * sent from its own async context).
 */
export class UnitRun {
  readonly index: number;
  /** The group's statements (its PgExecutor): a unit's context can outlive it (below), never count for another group. */
  readonly group: object;
  /** Statements of this unit that may have changed the transaction (PgExecutor: a write, or a failure). */
  changes = 0;
  /** A later unit was started behind this one's last statement: it may send nothing more. */
  overtaken = false;
  private lastDeclared = false;
  private lastSent = false;
  /** Resolves when the unit has sent the statement it said was its last. */
  readonly lastStatementSent: Promise<true>;
  private signalSent!: (value: true) => void;
  constructor(index: number, group: object) {
    this.index = index;
    this.group = group;
    this.lastStatementSent = new Promise((resolve) => (this.signalSent = resolve));
  }
  declareLast(): void {
    this.lastDeclared = true;
  }
  /** Before one of its statements is sent: refused once a later unit runs behind its last. */
  beforeSend(): void {
    if (this.lastSent && this.overtaken) throw new LastStatementBroken();
  }
  /** After one of its statements was sent (it is on the wire). */
  afterSend(): void {
    if (this.lastDeclared && !this.lastSent) {
      this.lastSent = true;
      this.signalSent(true);
    }
  }
}

/**
 * A unit that sent a statement after the one it said was its last, while a later unit's
 * statements had been sent behind it: that statement would run after theirs. Never sent; the
 * unit is run again in a group that runs each unit alone (its group undone if it had written).
 */
export class LastStatementBroken extends Error {
  constructor() {
    super('a unit of a PostgreSQL group sent a statement after the one it said was its last');
  }
}

/**
 * The unit whose async context a statement is sent from (none outside a group's units). A timer
 * or an immediate set inside a unit runs in its context, whatever runs then: a stall's timer
 * (GroupRun) sets none there, and a group counts only its own units (UnitRun.group).
 */
export const currentUnit = new AsyncLocalStorage<UnitRun>();

/** This group's unit whose context the caller runs in, if any. */
export function unitOf(group: object): UnitRun | undefined {
  const unit = currentUnit.getStore();
  return unit?.group === group ? unit : undefined;
}
