// OpenSSL libcrypto (Debian: libssl-dev): HMAC-SHA256, the OS random source, constant-time compare.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
