"""Drives otcextensions' KMS proxy against kmsd once, to record its requests (test/support/otc/record-otcextensions.ts).

otcextensions is not packaged by Debian: this ran with its 0.34.5 source on PYTHONPATH (PBR_VERSION=0.34.5)
over Debian's python3-openstacksdk 0.101. Prints one JSON line per step: the attributes the
resource exposes afterwards and their Python types, or the exception the step raised.
"""
import json
import sys
import uuid

import openstack
from openstack import exceptions
from otcextensions import sdk
from otcextensions.sdk.kms.v1 import data_key as _data_key

given = json.loads(sys.argv[1])
conn = openstack.connect(
    auth_url=given["auth_url"], username=given["user"], password=given["password"],
    user_domain_name=given["domain"], project_name=given["region"], project_domain_name=given["domain"],
    region_name=given["region"], interface="public", identity_api_version="3",
)
sdk.register_otc_extensions(conn)
kms = conn.kms
ATTRS = {
    "Key": ["id", "key_id", "domain_id", "key_alias", "realm", "key_description", "creation_date",
            "scheduled_deletion_date", "key_state", "default_key_flag", "key_type"],
    "DataKey": ["key_id", "datakey_length", "datakey_plain_length", "datakey_cipher_length", "plain_text", "cipher_text"],
    "Random": ["random_data"],
    "InstanceNumber": ["instance_num"],
    "Quota": ["type", "used", "quota"],
}


def read(resource):
    names = ATTRS[type(resource).__name__]
    return {n: type(getattr(resource, n)).__name__ for n in names if getattr(resource, n) is not None}


def step(name, call):
    sys.stderr.write(f"STEP {name}\n")
    sys.stderr.flush()
    try:
        result = call()
    except exceptions.SDKException as error:
        print(json.dumps({"step": name, "raised": type(error).__name__}))
        return None
    if isinstance(result, list):
        print(json.dumps({"step": name, "count": len(result), "read": [read(r) for r in result]}))
    else:
        print(json.dumps({"step": name, "read": read(result)}))
    return result


alias = given["alias"]
key = step("create_key", lambda: kms.create_key(key_alias=alias, key_description="recorded from otcextensions"))
step("create_key_same_alias", lambda: kms.create_key(key_alias=alias))
step("get_key", lambda: kms.get_key(key.id))
step("get_key_not_uuid", lambda: kms.get_key("not-a-key-id"))
step("get_key_unknown", lambda: kms.get_key(str(uuid.UUID(int=1))))
step("find_key_by_alias", lambda: kms.find_key(alias))
step("keys", lambda: list(kms.keys()))
step("keys_limit_1", lambda: list(kms.keys(limit=1)))
step("disable_key", lambda: kms.disable_key(key))
step("enable_key", lambda: kms.enable_key(key))
dk = step("create_datakey", lambda: kms.create_datakey(key, datakey_length="512"))
step("create_datakey_wo_plain", lambda: kms.create_datakey_wo_plain(key, datakey_length="512"))
plain = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
enc = step("encrypt_datakey", lambda: kms.encrypt_datakey(_data_key.DataKey.new(key_id=key.id, plain_text=plain, datakey_length="32")))
step("decrypt_datakey", lambda: kms.decrypt_datakey(key, enc.cipher_text, "32"))
step("generate_random", lambda: kms.generate_random(random_data_length=512))
step("get_instance_number", lambda: kms.get_instance_number())
step("quotas", lambda: list(kms.quotas()))
step("schedule_key_deletion", lambda: kms.schedule_key_deletion(key, pending_days=7))
step("cancel_key_deletion", lambda: kms.cancel_key_deletion(key))
