"""Drives Debian's openstacksdk against kmsd through the token's catalog only (test/openstack-sdk.test.ts).

Reads a JSON object from argv[1] (auth_url, user, password, domain, region) and prints one JSON
object of what the SDK found: nothing here names a kmsd URL but auth_url.
"""
import json
import sys

import keystoneauth1.exceptions
import openstack

given = json.loads(sys.argv[1])
conn = openstack.connect(
    auth_url=given["auth_url"], username=given["user"], password=given["password"],
    user_domain_name=given["domain"], project_name=given["region"], project_domain_name=given["domain"],
    region_name=given["region"], interface="public", identity_api_version="3",
)
session = conn.session
token = session.get_token()
user_id = session.get_user_id()
project_id = session.get_project_id()
discovered = conn.identity.get_endpoint_data()


def elsewhere():
    """A region kmsd does not serve has no kms endpoint (the catalog never says `*`)."""
    try:
        return session.get_endpoint(service_type="kms", interface="public", region_name="eu-nl")
    except keystoneauth1.exceptions.EndpointNotFound as error:
        return type(error).__name__


out = {
    "token_length": len(token),
    "user_id": user_id,
    "project_id": project_id,
    # Endpoint lookup by type, interface and region, as every OpenStack/OTC proxy does it.
    "kms_endpoint": session.get_endpoint(service_type="kms", interface="public", region_name=given["region"]),
    "kmsv1_endpoint": session.get_endpoint(service_type="kmsv1", interface="public", region_name=given["region"]),
    "identity_endpoint": session.get_endpoint(service_type="identity", interface="public", region_name=given["region"]),
    "kms_in_another_region": elsewhere(),
    # Version discovery on the catalog's identity URL (GET /v3).
    "identity_version": list(discovered.api_version),
    "identity_proxy_endpoint": discovered.url,
    # Identity calls through the discovered endpoint.
    "projects": sorted(p.name for p in conn.identity.projects()),
    "my_projects": sorted(p.id for p in conn.identity.user_projects(user_id)),
}
print(json.dumps(out))
