import type { Page } from '../core/model.ts';
import type { Secret, SecretStage, SecretStateValue, SecretTag, SecretTagFilter, SecretVersion, ValueKind } from '../core/secrets/model.ts';
import type { Executor } from './sql-tx.ts';
import type { SecretsTx } from './secrets-tx.ts';
import { groupTagValues, placeholders as list, tagConditions } from './rows.ts';

type Row = Record<string, unknown>;

const SECRET_COLUMNS =
  'secret_id, account_id, region, name, kms_key_id, description, secret_type, state, create_time, update_time, ' +
  'scheduled_delete_time, version_count';
const VERSION_COLUMNS = 'secret_id, version_id, kms_key_id, value_kind, sealed, create_time, expire_time';

const optNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function secretFromRow(r: Row): Secret {
  return {
    secretId: String(r.secret_id), accountId: String(r.account_id), region: String(r.region), name: String(r.name),
    kmsKeyId: String(r.kms_key_id), description: String(r.description), secretType: String(r.secret_type),
    state: String(r.state) as SecretStateValue, createTime: Number(r.create_time), updateTime: Number(r.update_time),
    scheduledDeleteTime: optNum(r.scheduled_delete_time), versionCount: Number(r.version_count),
  };
}
/** A secret not yet gone at $n: no scheduled deletion, or one still to come (isDeletionDue). */
const live = (column: string, n: number) => `(${column} IS NULL OR ${column} > $${n})`;

const secretToParams = (s: Secret): unknown[] => [
  s.secretId, s.accountId, s.region, s.name, s.kmsKeyId, s.description, s.secretType, s.state, s.createTime, s.updateTime,
  s.scheduledDeleteTime, s.versionCount,
];
function versionFromRow(r: Row): SecretVersion {
  return {
    secretId: String(r.secret_id), versionId: String(r.version_id), kmsKeyId: String(r.kms_key_id),
    kind: String(r.value_kind) as ValueKind, sealed: Buffer.from(r.sealed as Uint8Array),
    createTime: Number(r.create_time), expireTime: optNum(r.expire_time),
  };
}
const stageFromRow = (r: Row): SecretStage => ({
  secretId: String(r.secret_id), name: String(r.stage_name), versionId: String(r.version_id), updateTime: Number(r.update_time),
});

/** The one SQL implementation of SecretsTx, shared by the SQLite and PostgreSQL drivers (tx.secrets). */
export class SqlSecrets implements SecretsTx {
  private readonly db: Executor;
  constructor(db: Executor) {
    this.db = db;
  }

  async insertSecret(s: Secret): Promise<void> {
    await this.db.run(`INSERT INTO csms_secrets (${SECRET_COLUMNS}) VALUES (${list(12)})`, secretToParams(s));
  }
  async updateSecret(s: Secret): Promise<void> {
    const sets = SECRET_COLUMNS.split(', ').slice(1).map((c, i) => `${c} = $${i + 2}`).join(', ');
    await this.db.run(`UPDATE csms_secrets SET ${sets} WHERE secret_id = $1`, secretToParams(s));
  }
  async getSecret(secretId: string, options: { lock?: boolean } = {}): Promise<Secret | null> {
    const rows = await this.db.all(`SELECT ${SECRET_COLUMNS} FROM csms_secrets WHERE secret_id = $1${options.lock ? this.db.forUpdate : ''}`, [secretId]);
    return rows[0] ? secretFromRow(rows[0]) : null;
  }
  async findSecret(accountId: string, region: string, name: string, options: { lock?: boolean } = {}): Promise<Secret | null> {
    const rows = await this.db.all(
      `SELECT ${SECRET_COLUMNS} FROM csms_secrets WHERE account_id = $1 AND region = $2 AND name = $3${options.lock ? this.db.forUpdate : ''}`,
      [accountId, region, name],
    );
    return rows[0] ? secretFromRow(rows[0]) : null;
  }
  async listSecrets(accountId: string, region: string, after: string | undefined, limit: number, liveAt?: number): Promise<Secret[]> {
    const rows = await this.db.all(
      `SELECT ${SECRET_COLUMNS} FROM csms_secrets WHERE account_id = $1 AND region = $2 AND name > $3${liveAt === undefined ? '' : ` AND ${live('scheduled_delete_time', 5)}`}
         ORDER BY name LIMIT $4`,
      [accountId, region, after ?? '', limit, ...(liveAt === undefined ? [] : [liveAt])],
    );
    return rows.map(secretFromRow);
  }
  async countSecrets(accountId: string, region: string): Promise<number> {
    const rows = await this.db.all('SELECT COUNT(*) AS n FROM csms_secrets WHERE account_id = $1 AND region = $2', [accountId, region]);
    return Number(rows[0]?.n ?? 0);
  }
  async deleteSecret(secretId: string): Promise<void> {
    for (const table of ['csms_stages', 'csms_versions', 'csms_tags', 'csms_secrets']) {
      await this.db.run(`DELETE FROM ${table} WHERE secret_id = $1`, [secretId]);
    }
  }
  async secretsDueForDeletion(now: number, limit: number): Promise<string[]> {
    const rows = await this.db.all(
      'SELECT secret_id FROM csms_secrets WHERE scheduled_delete_time <= $1 ORDER BY scheduled_delete_time, secret_id LIMIT $2',
      [now, limit],
    );
    return rows.map((r) => String(r.secret_id));
  }

  async insertVersion(v: SecretVersion): Promise<void> {
    // version_number orders v10 after v9.
    await this.db.run(`INSERT INTO csms_versions (${VERSION_COLUMNS}, version_number) VALUES (${list(8)})`, [
      v.secretId, v.versionId, v.kmsKeyId, v.kind, v.sealed, v.createTime, v.expireTime, Number(v.versionId.slice(1)),
    ]);
  }
  async updateVersionExpiry(secretId: string, versionId: string, expireTime: number | null): Promise<void> {
    await this.db.run('UPDATE csms_versions SET expire_time = $3 WHERE secret_id = $1 AND version_id = $2', [secretId, versionId, expireTime]);
  }
  async getVersion(secretId: string, versionId: string): Promise<SecretVersion | null> {
    const rows = await this.db.all(`SELECT ${VERSION_COLUMNS} FROM csms_versions WHERE secret_id = $1 AND version_id = $2`, [secretId, versionId]);
    return rows[0] ? versionFromRow(rows[0]) : null;
  }
  async listVersions(secretId: string): Promise<SecretVersion[]> {
    const rows = await this.db.all(`SELECT ${VERSION_COLUMNS} FROM csms_versions WHERE secret_id = $1 ORDER BY version_number`, [secretId]);
    return rows.map(versionFromRow);
  }
  async deleteVersion(secretId: string, versionId: string): Promise<void> {
    await this.db.run('DELETE FROM csms_versions WHERE secret_id = $1 AND version_id = $2', [secretId, versionId]);
  }

  async stagesOf(secretId: string): Promise<SecretStage[]> {
    const rows = await this.db.all('SELECT * FROM csms_stages WHERE secret_id = $1 ORDER BY stage_name', [secretId]);
    return rows.map(stageFromRow);
  }
  async putStage(s: SecretStage): Promise<void> {
    await this.db.run(
      `INSERT INTO csms_stages (secret_id, stage_name, version_id, update_time) VALUES ($1, $2, $3, $4)
         ON CONFLICT (secret_id, stage_name) DO UPDATE SET version_id = excluded.version_id, update_time = excluded.update_time`,
      [s.secretId, s.name, s.versionId, s.updateTime],
    );
  }
  async deleteStage(secretId: string, name: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM csms_stages WHERE secret_id = $1 AND stage_name = $2', [secretId, name])) > 0;
  }

  async tagsOfSecret(secretId: string): Promise<SecretTag[]> {
    const rows = await this.db.all('SELECT tag_key, tag_value FROM csms_tags WHERE secret_id = $1 ORDER BY tag_key', [secretId]);
    return rows.map((r) => ({ key: String(r.tag_key), value: String(r.tag_value) }));
  }
  async putSecretTag(secretId: string, tag: SecretTag, now: number): Promise<void> {
    await this.db.run(
      `INSERT INTO csms_tags (secret_id, tag_key, tag_value, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (secret_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`,
      [secretId, tag.key, tag.value, now],
    );
  }
  async deleteSecretTag(secretId: string, key: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM csms_tags WHERE secret_id = $1 AND tag_key = $2', [secretId, key])) > 0;
  }
  async projectSecretTags(accountId: string, region: string, liveAt?: number): Promise<Array<{ key: string; values: string[] }>> {
    const rows = await this.db.all(
      `SELECT DISTINCT t.tag_key, t.tag_value FROM csms_tags t JOIN csms_secrets s ON s.secret_id = t.secret_id
         WHERE s.account_id = $1 AND s.region = $2${liveAt === undefined ? '' : ` AND ${live('s.scheduled_delete_time', 3)}`} ORDER BY t.tag_key, t.tag_value`,
      [accountId, region, ...(liveAt === undefined ? [] : [liveAt])],
    );
    return groupTagValues(rows);
  }
  async secretsByTags(accountId: string, region: string, filter: SecretTagFilter, offset: number, limit: number): Promise<Page<Secret>> {
    const params: unknown[] = [accountId, region];
    const where = ['account_id = $1', 'region = $2'];
    tagConditions(filter.tags, 'csms_tags', 'csms_secrets', 'secret_id', params, where);
    if (filter.liveAt !== undefined) {
      params.push(filter.liveAt);
      where.push(live('scheduled_delete_time', params.length));
    }
    if (filter.name !== undefined && filter.name !== '') {
      params.push(`%${filter.name.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`LOWER(name) LIKE $${params.length} ESCAPE '\\'`);
    }
    const cond = where.join(' AND ');
    const rows = await this.db.all(`SELECT COUNT(*) AS n FROM csms_secrets WHERE ${cond}`, params);
    const total = Number(rows[0]?.n ?? 0);
    if (limit === 0) return { items: [], total };
    const page = await this.db.all(
      `SELECT ${SECRET_COLUMNS} FROM csms_secrets WHERE ${cond} ORDER BY create_time, secret_id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, limit, offset],
    );
    return { items: page.map(secretFromRow), total };
  }
}
