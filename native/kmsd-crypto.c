/*
 * kmsd-crypto: the few OpenSSL calls node:crypto does not offer, as a Node-API addon linked
 * against the OpenSSL inside Node itself (its symbols are resolved from the node binary when the
 * addon loads; nothing else is linked).
 *
 *   importKey(der, isPrivate)            -> handle   PKCS#8 (private) or SPKI (public) DER
 *   sign(handle, md, pss, digest)        -> Buffer   EVP_PKEY_sign over a digest the caller made
 *   verify(handle, md, pss, digest, sig) -> boolean  EVP_PKEY_verify
 *   encrypt(handle, plaintext)           -> Buffer   EVP_PKEY_encrypt (SM2: GM/T 0009 DER, SM3)
 *   decrypt(handle, ciphertext)          -> Buffer | null (null: OpenSSL refused the ciphertext)
 *   openssl                              string     the OpenSSL it runs on
 *   trimMemory()                         -> boolean  glibc's malloc_trim(0) (src/memory/malloc-trim.ts);
 *                                                    (whether it gave any back); defined only with glibc
 *
 * node:crypto's sign/verify always hash what they are given; EVP_PKEY_sign is what
 * `openssl pkeyutl -sign` calls, on the digest itself. Every call runs synchronously on the
 * caller's thread (microseconds for ECDSA and SM2; an RSA-2048 signature about as long as
 * node:crypto's own). Errors throw an Error with a fixed message: OpenSSL's own text may name
 * internals and is never needed. Each call leaves OpenSSL's per-thread error queue as it found it
 * (node:crypto reads that queue after its own calls).
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#define FAIL(env, message) do { napi_throw_error((env), NULL, (message)); return NULL; } while (0)

static void free_key(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  EVP_PKEY_free((EVP_PKEY *)data); /* clears the private key's memory as it frees it */
}

/* The bytes of a Buffer / Uint8Array argument. */
static int bytes_of(napi_env env, napi_value value, const unsigned char **data, size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed) return 0;
  napi_typedarray_type type;
  void *raw = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok || type != napi_uint8_array) return 0;
  *data = (const unsigned char *)raw;
  return 1;
}

static EVP_PKEY *key_of(napi_env env, napi_value value) {
  void *data = NULL;
  napi_valuetype t;
  if (napi_typeof(env, value, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_get_value_external(env, value, &data) != napi_ok) return NULL;
  return (EVP_PKEY *)data;
}

static int bool_of(napi_env env, napi_value value) {
  bool b = false;
  napi_get_value_bool(env, value, &b);
  return b ? 1 : 0;
}

/* A digest's OpenSSL name (sha256, sha384, sha512, sm3), at most 15 characters. */
static const EVP_MD *md_of(napi_env env, napi_value value) {
  char name[16];
  size_t length = 0;
  if (napi_get_value_string_utf8(env, value, name, sizeof name, &length) != napi_ok || length == 0 || length >= sizeof name - 1) return NULL;
  return EVP_get_digestbyname(name);
}

static napi_value copy_out(napi_env env, const unsigned char *data, size_t length) {
  napi_value out;
  void *copy = NULL;
  if (napi_create_buffer_copy(env, length, data, &copy, &out) != napi_ok) return NULL;
  return out;
}

static napi_value import_key(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const unsigned char *der;
  size_t length;
  if (argc < 2 || !bytes_of(env, argv[0], &der, &length)) FAIL(env, "importKey(der, isPrivate)");
  ERR_set_mark();
  const unsigned char *p = der;
  EVP_PKEY *key = bool_of(env, argv[1]) ? d2i_AutoPrivateKey(NULL, &p, (long)length) : d2i_PUBKEY(NULL, &p, (long)length);
  ERR_pop_to_mark();
  if (key == NULL) FAIL(env, "not a key");
  if (p != der + length) {
    EVP_PKEY_free(key);
    FAIL(env, "not a key");
  }
  napi_value handle;
  if (napi_create_external(env, key, free_key, NULL, &handle) != napi_ok) {
    EVP_PKEY_free(key);
    FAIL(env, "out of memory");
  }
  return handle;
}

/* A context for one signature or verification: the digest named, PSS if asked. */
static EVP_PKEY_CTX *signature_context(EVP_PKEY *key, const EVP_MD *md, int pss, int verifying) {
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
  if (ctx == NULL) return NULL;
  int ok = (verifying ? EVP_PKEY_verify_init(ctx) : EVP_PKEY_sign_init(ctx)) > 0;
  if (ok && pss) {
    /* The salt as long as the hash to sign; any salt length to verify (as pkeyutl's "auto"). */
    ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) > 0 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, verifying ? RSA_PSS_SALTLEN_AUTO : RSA_PSS_SALTLEN_DIGEST) > 0;
  }
  ok = ok && EVP_PKEY_CTX_set_signature_md(ctx, md) > 0;
  if (!ok) {
    EVP_PKEY_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

/* The arguments sign and verify share: (handle, md, pss, digest, ...). */
typedef struct {
  napi_value argv[5];
  EVP_PKEY *key;
  const EVP_MD *md;
  int pss;
  const unsigned char *digest;
  size_t digest_length;
} signature_call;

static int read_signature_call(napi_env env, napi_callback_info info, size_t expected, signature_call *call) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, call->argv, NULL, NULL) != napi_ok || argc != expected) return 0;
  call->key = key_of(env, call->argv[0]);
  call->md = call->key ? md_of(env, call->argv[1]) : NULL;
  call->pss = bool_of(env, call->argv[2]);
  return call->md != NULL && bytes_of(env, call->argv[3], &call->digest, &call->digest_length);
}

static napi_value sign(napi_env env, napi_callback_info info) {
  signature_call call;
  if (!read_signature_call(env, info, 4, &call)) FAIL(env, "sign(handle, md, pss, digest)");
  const unsigned char *digest = call.digest;
  size_t digest_length = call.digest_length;
  ERR_set_mark();
  EVP_PKEY_CTX *ctx = signature_context(call.key, call.md, call.pss, 0);
  size_t length = 0;
  unsigned char *signature = NULL;
  int ok = ctx != NULL && EVP_PKEY_sign(ctx, NULL, &length, digest, digest_length) > 0 &&
           (signature = OPENSSL_malloc(length)) != NULL &&
           EVP_PKEY_sign(ctx, signature, &length, digest, digest_length) > 0;
  EVP_PKEY_CTX_free(ctx);
  ERR_pop_to_mark();
  napi_value out = ok ? copy_out(env, signature, length) : NULL;
  OPENSSL_free(signature);
  if (out == NULL) FAIL(env, "OpenSSL could not sign");
  return out;
}

static napi_value verify(napi_env env, napi_callback_info info) {
  signature_call call;
  const unsigned char *signature;
  size_t signature_length;
  if (!read_signature_call(env, info, 5, &call) || !bytes_of(env, call.argv[4], &signature, &signature_length)) {
    FAIL(env, "verify(handle, md, pss, digest, signature)");
  }
  const unsigned char *digest = call.digest;
  size_t digest_length = call.digest_length;
  ERR_set_mark();
  EVP_PKEY_CTX *ctx = signature_context(call.key, call.md, call.pss, 1);
  /* 1: valid. 0 or below with a context: not a valid signature (OpenSSL answers -1 for one that is
     not even DER); no context at all: a failure, thrown. */
  int valid = ctx != NULL && EVP_PKEY_verify(ctx, signature, signature_length, digest, digest_length) == 1;
  EVP_PKEY_CTX_free(ctx);
  ERR_pop_to_mark();
  if (ctx == NULL) FAIL(env, "OpenSSL could not verify");
  napi_value out;
  napi_get_boolean(env, valid, &out);
  return out;
}

/* encrypt (decrypting = 0) or decrypt (1): the output, or for decrypt null when refused. */
static napi_value crypt(napi_env env, napi_callback_info info, int decrypting) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  EVP_PKEY *key = argc == 2 ? key_of(env, argv[0]) : NULL;
  const unsigned char *in;
  size_t in_length;
  if (key == NULL || !bytes_of(env, argv[1], &in, &in_length)) FAIL(env, decrypting ? "decrypt(handle, ciphertext)" : "encrypt(handle, plaintext)");
  ERR_set_mark();
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
  int ready = ctx != NULL && (decrypting ? EVP_PKEY_decrypt_init(ctx) : EVP_PKEY_encrypt_init(ctx)) > 0;
  size_t length = 0, capacity = 0;
  unsigned char *out = NULL;
  int ok = ready &&
           (decrypting ? EVP_PKEY_decrypt(ctx, NULL, &length, in, in_length) : EVP_PKEY_encrypt(ctx, NULL, &length, in, in_length)) > 0 &&
           (capacity = length, out = OPENSSL_malloc(capacity)) != NULL &&
           (decrypting ? EVP_PKEY_decrypt(ctx, out, &length, in, in_length) : EVP_PKEY_encrypt(ctx, out, &length, in, in_length)) > 0;
  EVP_PKEY_CTX_free(ctx);
  ERR_pop_to_mark();
  napi_value result = ok ? copy_out(env, out, length) : NULL;
  OPENSSL_clear_free(out, capacity); /* a plaintext, when decrypting */
  if (result != NULL) return result;
  if (decrypting && ready) {
    napi_get_null(env, &result); /* the ciphertext is refused: not SM2's DER, another key, C3 mismatch */
    return result;
  }
  FAIL(env, decrypting ? "OpenSSL could not decrypt" : "OpenSSL could not encrypt");
}

static napi_value encrypt(napi_env env, napi_callback_info info) { return crypt(env, info, 0); }
static napi_value decrypt(napi_env env, napi_callback_info info) { return crypt(env, info, 1); }

/*
 * Gives the free pages inside glibc's malloc arenas back to the system (glibc only). Not crypto, but the one
 * C call kmsd needs that Node does not offer either: glibc returns memory only from the top of
 * an arena, and the ~25 MiB V8 frees after compiling under load sit in the middle of it
 * (src/memory/malloc-trim.ts says when it is called and what it saves).
 */
#if defined(__GLIBC__)
static napi_value trim_memory(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  napi_get_boolean(env, malloc_trim(0) == 1, &result);
  return result;
}
#endif

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
    { "importKey", NULL, import_key, NULL, NULL, NULL, napi_enumerable, NULL },
    { "sign", NULL, sign, NULL, NULL, NULL, napi_enumerable, NULL },
    { "verify", NULL, verify, NULL, NULL, NULL, napi_enumerable, NULL },
    { "encrypt", NULL, encrypt, NULL, NULL, NULL, napi_enumerable, NULL },
    { "decrypt", NULL, decrypt, NULL, NULL, NULL, napi_enumerable, NULL },
  };
  if (napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods) != napi_ok) return NULL;
#if defined(__GLIBC__)
  /* Only where there is a malloc_trim: without it, no trimMemory, and kmsd knows it cannot trim. */
  napi_property_descriptor trim = { "trimMemory", NULL, trim_memory, NULL, NULL, NULL, napi_enumerable, NULL };
  if (napi_define_properties(env, exports, 1, &trim) != napi_ok) return NULL;
#endif
  napi_value version;
  if (napi_create_string_utf8(env, OpenSSL_version(OPENSSL_VERSION), NAPI_AUTO_LENGTH, &version) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "openssl", version) != napi_ok) return NULL;
  return exports;
}
