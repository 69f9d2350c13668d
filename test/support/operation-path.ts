import { pathOf, type Operation } from '../../src/api/operation.ts';

/**
 * The concrete path of an operation: its template with {project_id} and every other path
 * parameter filled from `values` (the same values a request body would carry).
 */
export function operationPath(op: Operation, projectId: string, values: Record<string, unknown> = {}): string {
  return pathOf(op).replace(/\{([a-z_]+)\}/g, (_, name: string) =>
    name === 'project_id' ? projectId : encodeURIComponent(String(values[name] ?? 'missing')));
}

/** Whether the operation's request carries a JSON body (every method but GET). */
export const sendsBody = (op: Operation): boolean => op.method !== 'GET';
