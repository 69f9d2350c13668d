import { randomBytes, randomUUID } from 'node:crypto';

/** Time and randomness come from here, injected, so tests can move the clock. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests can set and advance. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start = Date.UTC(2026, 10, 22, 11, 23, 52)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export const DAY_MS = 86_400_000;

export const newKeyId = (): string => randomUUID();
/**
 * 64 lowercase hex characters, as the cloud's: the creation time in milliseconds (12 hex
 * digits) followed by 208 random bits. Random ids would land on a random page of the grant-id
 * index for every grant created; time-ordered ones are appended next to each other, so a
 * store holding millions of grants writes (and syncs) a handful of index pages per commit
 * instead of one per grant. 208 random bits keep ids unguessable; the time they reveal is
 * the grant's creation_date, which list-grants shows anyway.
 */
export const newGrantId = (now = Date.now()): string =>
  Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12) + randomBytes(26).toString('hex');
/** Account, project and user ids look like Huawei's: 32 lowercase hex characters. */
export const newIdentityId = (): string => randomBytes(16).toString('hex');
