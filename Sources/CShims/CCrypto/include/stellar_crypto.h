// OpenSSL's libcrypto for HMAC-SHA256 and AES-256-GCM, loaded with dlopen by the processes that
// check or make keys and signing secrets (the workers, `keys create`, a database's secret
// fingerprint, the delivery helper when it signs): linked, libcrypto would be
// loaded and relocated at every process start (~1 ms, ~1.5 MB resident) by the master, the
// delivery helper and every command too. Only OpenSSL's headers are used at build time (Debian:
// libssl-dev).
#ifndef STELLAR_CRYPTO_H
#define STELLAR_CRYPTO_H

#include <stddef.h>

// Loads libcrypto.so.3 and its functions once, initialized without its error strings (messages
// this service never prints); 0 on success, else -1 with the reason in `error`.
int stellar_crypto_load(char *error, unsigned long errorSize);

// HMAC-SHA256 keyed once: each digest works on a copy of the keyed context, so it costs a copy,
// not a provider lookup and a key schedule. NULL when OpenSSL refuses (or is not loaded).
void *stellar_hmac_sha256_new(const unsigned char *key, size_t keyLength);
void stellar_hmac_sha256_free(void *keyed);
// Writes the 32-byte digest of `message` to `out`; 0 on success, -1 on failure.
int stellar_hmac_sha256(const void *keyed, const unsigned char *message, size_t length, unsigned char *out);

// Writes the 32-byte SHA-256 of `bytes` to `out`; 0 on success, -1 on failure.
int stellar_sha256(const unsigned char *bytes, size_t length, unsigned char *out);

// AES-256-GCM with a 12-byte nonce and a 16-byte tag, for secrets kept at rest (signing
// secrets): `out` gets `length` bytes of ciphertext, `tag` 16 bytes; `aad` is authenticated, not
// encrypted. 0 on success, -1 on failure.
int stellar_aes256gcm_seal(const unsigned char *key, const unsigned char *nonce, const unsigned char *aad,
                           size_t aadLength, const unsigned char *plain, size_t length, unsigned char *out,
                           unsigned char *tag);
// The reverse: 0 when the tag matches (the plaintext is in `out`), -1 when it does not or on failure.
int stellar_aes256gcm_open(const unsigned char *key, const unsigned char *nonce, const unsigned char *aad,
                           size_t aadLength, const unsigned char *sealed, size_t length, const unsigned char *tag,
                           unsigned char *out);

// Constant-time comparison (CRYPTO_memcmp): 0 when equal.
int stellar_crypto_memcmp(const void *a, const void *b, size_t length);

#endif
