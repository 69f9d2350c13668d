// The API version documents, served without authentication (reference §2.10).
function detail(publicUrl: string): Record<string, unknown> {
  return {
    id: 'v1.0',
    links: [{ href: `${publicUrl}/v1.0/`, rel: 'self' }],
    version: '',
    status: 'CURRENT',
    updated: '2016-10-29T02:00:00Z',
    min_version: '',
  };
}

export const versionsDocument = (publicUrl: string) => ({ versions: [detail(publicUrl)] });
export const versionDocument = (publicUrl: string) => ({ version: detail(publicUrl) });
