import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECONNECT_MAX_MS, RECONNECT_MIN_MS, Reconnection, StoreUnavailableError } from './unavailable.ts';

const refused = (r: Reconnection): StoreUnavailableError => {
  try {
    r.admit();
  } catch (error) {
    assert.ok(error instanceof StoreUnavailableError);
    return error;
  }
  throw new Error('admitted');
};

test('while the store is up every attempt is admitted, none of them a probe', () => {
  const r = new Reconnection(() => 0);
  assert.equal(r.admit(), false);
  assert.equal(r.admit(), false);
});

test('after a failed connection, requests are answered at once until the backoff has passed; then one probe at a time', () => {
  let now = 1000;
  const r = new Reconnection(() => now);
  r.failed(r.admit(), 'PostgreSQL refuses connections');
  const error = refused(r);
  assert.deepEqual([error.reason, error.stage, error.message], ['PostgreSQL refuses connections', 'connect', 'the store is unavailable: PostgreSQL refuses connections']);
  now += RECONNECT_MIN_MS;
  assert.equal(r.admit(), true);
  refused(r); // the probe is under way: nobody else tries
  r.failed(true, 'PostgreSQL is starting up or shutting down');
  assert.equal(refused(r).reason, 'PostgreSQL is starting up or shutting down');
  now += RECONNECT_MIN_MS;
  refused(r); // the backoff doubled
  now += RECONNECT_MIN_MS;
  assert.equal(r.admit(), true);
  r.succeeded();
  assert.equal(r.admit(), false);
});

test('the backoff doubles up to its ceiling, and failures of attempts admitted before the outage do not grow it', () => {
  let now = 0;
  const r = new Reconnection(() => now);
  r.failed(false, 'down');
  r.failed(false, 'down');
  r.failed(false, 'down');
  now += RECONNECT_MIN_MS;
  assert.equal(r.admit(), true);
  for (const delay of [200, 400, 800, RECONNECT_MAX_MS, RECONNECT_MAX_MS, RECONNECT_MAX_MS]) {
    r.failed(true, 'down');
    now += delay - 1;
    refused(r);
    now += 1;
    assert.equal(r.admit(), true);
  }
});
