import { kms } from './errors.ts';
import { DECISIONS } from './decisions.ts';
import type { Page } from './model.ts';

/**
 * Pagination of list calls (DESIGN §2): `marker` is an offset >= 0, `limit` 1..1000,
 * default: everything that is left. Values arrive as numeric strings (or JSON numbers the
 * edge turned into strings); "" has already been dropped as "not given".
 */
export interface PageRequest {
  offset: number;
  limit: number;
}

const EVERYTHING = Number.MAX_SAFE_INTEGER;

export function pageRequest(limit: string | undefined, marker: string | undefined, max: number = DECISIONS.maxLimit): PageRequest {
  let l = EVERYTHING;
  if (limit !== undefined) {
    if (!/^\d{1,10}$/.test(limit)) throw kms('KMS.1601');
    l = Number(limit);
    if (l < 1 || l > max) throw kms('KMS.1601');
  }
  let offset = 0;
  if (marker !== undefined) {
    if (!/^\d{1,15}$/.test(marker)) throw kms('KMS.1602');
    offset = Number(marker);
  }
  return { offset, limit: l };
}

export interface PageInfo {
  next_marker: string;
  truncated: 'true' | 'false';
  total: number;
}

export function pageInfo(page: Page<unknown>, request: PageRequest): PageInfo {
  const next = request.offset + page.items.length;
  const truncated = page.items.length > 0 && next < page.total;
  return { next_marker: truncated ? String(next) : '', truncated: truncated ? 'true' : 'false', total: page.total };
}
