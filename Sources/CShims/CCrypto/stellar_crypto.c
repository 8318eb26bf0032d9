#include "stellar_crypto.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

// The functions used, filled in by stellar_crypto_load.
static struct {
    int (*init_crypto)(uint64_t, const OPENSSL_INIT_SETTINGS *);
    EVP_MAC *(*mac_fetch)(OSSL_LIB_CTX *, const char *, const char *);
    void (*mac_free)(EVP_MAC *);
    EVP_MAC_CTX *(*ctx_new)(EVP_MAC *);
    EVP_MAC_CTX *(*ctx_dup)(const EVP_MAC_CTX *);
    void (*ctx_free)(EVP_MAC_CTX *);
    int (*mac_init)(EVP_MAC_CTX *, const unsigned char *, size_t, const OSSL_PARAM[]);
    int (*mac_update)(EVP_MAC_CTX *, const unsigned char *, size_t);
    int (*mac_final)(EVP_MAC_CTX *, unsigned char *, size_t *, size_t);
    OSSL_PARAM (*param_utf8_string)(const char *, char *, size_t);
    OSSL_PARAM (*param_end)(void);
    int (*q_digest)(OSSL_LIB_CTX *, const char *, const char *, const void *, size_t, unsigned char *, size_t *);
    EVP_CIPHER *(*cipher_fetch)(OSSL_LIB_CTX *, const char *, const char *);
    void (*cipher_free)(EVP_CIPHER *);
    EVP_CIPHER_CTX *(*cipher_ctx_new)(void);
    void (*cipher_ctx_free)(EVP_CIPHER_CTX *);
    int (*cipher_init)(EVP_CIPHER_CTX *, const EVP_CIPHER *, const unsigned char *, const unsigned char *, int,
                       const OSSL_PARAM[]);
    int (*cipher_update)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int);
    int (*cipher_final)(EVP_CIPHER_CTX *, unsigned char *, int *);
    int (*cipher_ctrl)(EVP_CIPHER_CTX *, int, int, void *);
    int (*memcmp)(const void *, const void *, size_t);
} crypto;

int stellar_crypto_load(char *error, unsigned long errorSize) {
    if (crypto.memcmp) return 0;
    void *library = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(error, errorSize, "%s", dlerror());
        return -1;
    }
#define LOAD(field, symbol)                                                 \
    if (!(*(void **)&crypto.field = dlsym(library, symbol))) {               \
        snprintf(error, errorSize, "libcrypto.so.3 has no %s", symbol);      \
        return -1;                                                          \
    }
    LOAD(init_crypto, "OPENSSL_init_crypto")
    LOAD(mac_fetch, "EVP_MAC_fetch")
    LOAD(mac_free, "EVP_MAC_free")
    LOAD(ctx_new, "EVP_MAC_CTX_new")
    LOAD(ctx_dup, "EVP_MAC_CTX_dup")
    LOAD(ctx_free, "EVP_MAC_CTX_free")
    LOAD(mac_init, "EVP_MAC_init")
    LOAD(mac_update, "EVP_MAC_update")
    LOAD(mac_final, "EVP_MAC_final")
    LOAD(param_utf8_string, "OSSL_PARAM_construct_utf8_string")
    LOAD(param_end, "OSSL_PARAM_construct_end")
    LOAD(q_digest, "EVP_Q_digest")
    LOAD(cipher_fetch, "EVP_CIPHER_fetch")
    LOAD(cipher_free, "EVP_CIPHER_free")
    LOAD(cipher_ctx_new, "EVP_CIPHER_CTX_new")
    LOAD(cipher_ctx_free, "EVP_CIPHER_CTX_free")
    LOAD(cipher_init, "EVP_CipherInit_ex2")
    LOAD(cipher_update, "EVP_CipherUpdate")
    LOAD(cipher_final, "EVP_CipherFinal_ex")
    LOAD(cipher_ctrl, "EVP_CIPHER_CTX_ctrl")
#undef LOAD
    if (!crypto.init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL)) {
        snprintf(error, errorSize, "OPENSSL_init_crypto failed");
        return -1;
    }
    // Last: it marks the table complete.
    if (!(*(void **)&crypto.memcmp = dlsym(library, "CRYPTO_memcmp"))) {
        snprintf(error, errorSize, "libcrypto.so.3 has no CRYPTO_memcmp");
        return -1;
    }
    return 0;
}

void *stellar_hmac_sha256_new(const unsigned char *key, size_t keyLength) {
    if (!crypto.memcmp) return NULL;
    EVP_MAC *mac = crypto.mac_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    if (!mac) return NULL;
    EVP_MAC_CTX *context = crypto.ctx_new(mac);
    crypto.mac_free(mac);  // the context keeps its own reference
    if (!context) return NULL;
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        crypto.param_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        crypto.param_end(),
    };
    if (crypto.mac_init(context, key, keyLength, params) != 1) {
        crypto.ctx_free(context);
        return NULL;
    }
    return context;
}

void stellar_hmac_sha256_free(void *keyed) {
    if (keyed) crypto.ctx_free(keyed);
}

int stellar_hmac_sha256(const void *keyed, const unsigned char *message, size_t length, unsigned char *out) {
    EVP_MAC_CTX *context = crypto.ctx_dup(keyed);
    if (!context) return -1;
    size_t written = 0;
    int ok = crypto.mac_update(context, message, length) == 1 &&
             crypto.mac_final(context, out, &written, 32) == 1 && written == 32;
    crypto.ctx_free(context);
    return ok ? 0 : -1;
}

int stellar_sha256(const unsigned char *bytes, size_t length, unsigned char *out) {
    size_t written = 0;
    return crypto.q_digest(NULL, "SHA256", NULL, bytes, length, out, &written) == 1 && written == 32 ? 0 : -1;
}

int stellar_crypto_memcmp(const void *a, const void *b, size_t length) {
    return crypto.memcmp(a, b, length);
}

// One AES-256-GCM pass: `encrypt` 1 seals (and writes the tag), 0 opens (and checks it).
static int aes256gcm(int encrypt, const unsigned char *key, const unsigned char *nonce, const unsigned char *aad,
                     size_t aadLength, const unsigned char *in, size_t length, unsigned char *out,
                     unsigned char *tag) {
    if (!crypto.memcmp || length > INT_MAX || aadLength > INT_MAX) return -1;
    EVP_CIPHER *cipher = crypto.cipher_fetch(NULL, "AES-256-GCM", NULL);
    if (!cipher) return -1;
    EVP_CIPHER_CTX *context = crypto.cipher_ctx_new();
    int written = 0, ok = context != NULL;
    // GCM's default nonce length is the 12 bytes used here.
    ok = ok && crypto.cipher_init(context, cipher, key, nonce, encrypt, NULL) == 1;
    ok = ok && (aadLength == 0 || crypto.cipher_update(context, NULL, &written, aad, (int)aadLength) == 1);
    ok = ok && (length == 0 || crypto.cipher_update(context, out, &written, in, (int)length) == 1);
    if (ok && !encrypt) ok = crypto.cipher_ctrl(context, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1;
    ok = ok && crypto.cipher_final(context, out + (length ? written : 0), &written) == 1;
    if (ok && encrypt) ok = crypto.cipher_ctrl(context, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    if (context) crypto.cipher_ctx_free(context);
    crypto.cipher_free(cipher);
    return ok ? 0 : -1;
}

int stellar_aes256gcm_seal(const unsigned char *key, const unsigned char *nonce, const unsigned char *aad,
                           size_t aadLength, const unsigned char *plain, size_t length, unsigned char *out,
                           unsigned char *tag) {
    return aes256gcm(1, key, nonce, aad, aadLength, plain, length, out, tag);
}

int stellar_aes256gcm_open(const unsigned char *key, const unsigned char *nonce, const unsigned char *aad,
                           size_t aadLength, const unsigned char *sealed, size_t length, const unsigned char *tag,
                           unsigned char *out) {
    return aes256gcm(0, key, nonce, aad, aadLength, sealed, length, out, (unsigned char *)tag);
}
