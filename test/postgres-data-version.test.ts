import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { BACKUP_TABLES } from '../src/store/backup/tables.ts';
import { ERR, newGrant, newKey } from './harness.ts';
import { startCluster, type Cluster } from './support/cluster.ts';
import { POSTGRES_SKIP } from './support/postgres.ts';

/**
 * The data version (migration 10, src/store/postgres-memo.ts) against what an operator or the
 * database itself may do to it: go back in time, lose its row, change rows with triggers
 * suppressed. In each case a grant retired through node A (200) must be refused on node B's
 * next request, although B remembered the grant: two real kmsd processes over one database.
 */
const DENIED = ERR('KMS.0306', 'No access permissions.');
const psql = (url: string, sql: string, input?: string) =>
  execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-1', '-At', '-c', sql, ...(input === undefined ? [] : ['-f', '-'])], { encoding: 'utf8', input }).trim();

describe('the data version on PostgreSQL: a retired grant is never served from a node\'s memo', { skip: POSTGRES_SKIP }, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await startCluster(2);
  });
  after(async () => {
    await cluster?.close();
  });

  /** A key with a grant to gus that rita may retire, used once through node B (which remembers the grant). */
  async function grantRememberedByB(): Promise<{ keyId: string; grantId: string }> {
    const [A, B] = cluster.nodes;
    const keyId = await newKey(A.as('admin', 'aksk'));
    const grantId = await newGrant(A.as('admin', 'aksk'), keyId, cluster.users.gus.id, ['describe-key', 'encrypt-data'], { retiring_principal: cluster.users.rita.id });
    assert.equal((await B.as('gus', 'aksk').kms('encrypt-data', { key_id: keyId, plain_text: 'warm' })).status, 200);
    return { keyId, grantId };
  }

  async function refusedOnB(keyId: string): Promise<void> {
    const [, B] = cluster.nodes;
    for (let i = 0; i < 3; i++) {
      const r = await B.as('gus', 'aksk').kms('encrypt-data', { key_id: keyId, plain_text: `after ${i}` });
      assert.deepEqual([r.status, r.body], [403, DENIED]);
    }
  }

  test('rows changed with triggers suppressed (session_replication_role = replica: a tool loading rows, logical replication applying them) move the version: the triggers fire ALWAYS', async () => {
    const { keyId } = await grantRememberedByB();
    psql(cluster.databaseUrl, `SET session_replication_role = replica; DELETE FROM grants WHERE key_id = '${keyId}'`);
    await refusedOnB(keyId);
    const enabled = psql(cluster.databaseUrl, `SELECT string_agg(DISTINCT tgenabled::text, ',') FROM pg_trigger WHERE tgname = 'data_changed'`);
    assert.equal(enabled, 'A');
  });

  test('the data_version rows deleted (DELETE, TRUNCATE): a read that finds no row forgets and remembers nothing, the next commit puts every row back', async () => {
    const [A, B] = cluster.nodes;
    const { keyId, grantId } = await grantRememberedByB();
    psql(cluster.databaseUrl, 'DELETE FROM data_version');
    // Without a version nothing is served from memory: what the database holds answers.
    assert.equal((await B.as('gus', 'aksk').kms('encrypt-data', { key_id: keyId, plain_text: 'no row' })).status, 200);
    assert.equal((await A.as('rita', 'aksk').kms('retire-grant', { key_id: keyId, grant_id: grantId })).status, 200);
    await refusedOnB(keyId);
    // Every table's row, also of the tables the retire did not change: node A found them missing at its version read.
    assert.equal(psql(cluster.databaseUrl, `SELECT string_agg(table_name, ',' ORDER BY table_name) FROM data_version`), [...BACKUP_TABLES].sort().join(','));
    psql(cluster.databaseUrl, 'TRUNCATE data_version');
    const other = await grantRememberedByB();
    assert.equal((await A.as('rita', 'aksk').kms('retire-grant', { key_id: other.keyId, grant_id: other.grantId })).status, 200);
    await refusedOnB(other.keyId);
  });

  test('the database goes back in time (point-in-time recovery, a failover that lost commits, a data-only restore): versions never repeat', async () => {
    const [A, B] = cluster.nodes;
    const url = cluster.databaseUrl;
    const { keyId, grantId } = await grantRememberedByB();
    const lost = await newGrant(A.as('admin', 'aksk'), keyId, cluster.users.greg.id, ['describe-key'], { retiring_principal: cluster.users.rita.id });
    // Point P: the backup, or the standby's last replayed commit.
    const atP = execFileSync('pg_dump', ['--data-only', '--disable-triggers', '--exclude-table=schema_migrations', url], { encoding: 'utf8', maxBuffer: 1 << 28 });
    // Acknowledged writes the database will lose (as many kmsd writes as the retire below), and node B remembering the grants after them.
    assert.equal((await A.as('rita', 'aksk').kms('retire-grant', { key_id: keyId, grant_id: lost })).status, 200);
    assert.equal((await B.as('gus', 'aksk').kms('encrypt-data', { key_id: keyId, plain_text: 'remembered' })).status, 200);
    // Back to P as a physical restore leaves it: every row, the data version's among them, as at P.
    const tables = psql(url, `SELECT string_agg(quote_ident(tablename), ',') FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT IN ('schema_migrations', 'data_version')`);
    psql(url, `SET session_replication_role = replica; TRUNCATE ${tables}; DELETE FROM data_version`, atP.replace(/^SELECT pg_catalog.set_config\('search_path'.*$/m, ''));
    assert.equal(psql(url, `SELECT count(*) FROM grants WHERE key_id = '${keyId}'`), '2');
    // The new timeline: the grant is retired through node A, one kmsd write as in the lost timeline.
    assert.equal((await A.as('rita', 'aksk').kms('retire-grant', { key_id: keyId, grant_id: grantId })).status, 200);
    await refusedOnB(keyId);
  });
});
