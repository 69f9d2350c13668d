// The API version documents, served without authentication (reference §2.10).
function detail(host: string | undefined): Record<string, unknown> {
  return {
    id: 'v1.0',
    links: [{ href: `http://${host ?? 'localhost'}/v1.0/`, rel: 'self' }],
    version: '',
    status: 'CURRENT',
    updated: '2016-10-29T02:00:00Z',
    min_version: '',
  };
}

export const versionsDocument = (host: string | undefined) => ({ versions: [detail(host)] });
export const versionDocument = (host: string | undefined) => ({ version: detail(host) });
