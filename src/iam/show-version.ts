import type { IamRoute } from './route.ts';

/**
 * GET /v3 (and /v3/): the Keystone v3 version document, without authentication, as Huawei's and
 * OTC's IAM answer it ("Querying Information About Keystone API Version 3.0"). keystoneauth asks
 * it of the catalog's identity URL before any identity call.
 */
export const showVersion: IamRoute = {
  method: 'GET',
  url: '/v3',
  async handle({ publicUrl }) {
    return {
      status: 200,
      body: {
        version: {
          id: 'v3.6',
          status: 'stable',
          updated: '2016-04-04T00:00:00Z',
          'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
          links: [{ href: `${publicUrl}/v3/`, rel: 'self' }],
        },
      },
    };
  },
};
