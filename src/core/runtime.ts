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
export const newGrantId = (): string => randomBytes(32).toString('hex');
/** Account, project and user ids look like Huawei's: 32 lowercase hex characters. */
export const newIdentityId = (): string => randomBytes(16).toString('hex');
