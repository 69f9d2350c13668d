import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startWorld, type World } from './harness.ts';

// A path parameter longer than the router's old bound (100) once got Fastify's own 414 body,
// in neither the KMS nor the Keystone form. Now it reaches its route, and the route's own
// checks answer it as they answer any other value.
let world: World;
before(async () => {
  world = await startWorld();
});
after(() => world.close());

const long = 'a'.repeat(200);

test('a 200-character project id: KMS and CSMS answer as for any other project id that is not the caller\'s', async () => {
  const alice = world.as('alice', 'token');
  const kms = await alice.kms('list-keys', {}, long);
  const short = await alice.kms('list-keys', {}, 'b'.repeat(32));
  assert.deepEqual([kms.status, kms.body], [short.status, short.body]);
  const csms = await alice.request('GET', `/v1/${long}/secrets`);
  const csmsShort = await alice.request('GET', `/v1/${'b'.repeat(32)}/secrets`);
  assert.deepEqual([csms.status, csms.body], [csmsShort.status, csmsShort.body]);
});

test('a 200-character secret name and version id, and a 200-character project id on IAM: the documented forms', async () => {
  const alice = world.as('alice', 'token');
  const project = world.users.alice.projectId;
  const version = await alice.request('GET', `/v1/${project}/secrets/${long}/versions/${long}`);
  // A name longer than 64 characters is not a secret name.
  assert.deepEqual([version.status, version.body], [400, { error_code: 'CSMS.0002', error_msg: 'The value of parameter is invalid.' }]);
  const iam = await alice.request('GET', `/v3/projects/${long}`);
  assert.deepEqual([iam.status, iam.body], [404, { error: { code: 404, title: 'Not Found', message: 'Could not find the requested resource.' } }]);
});
