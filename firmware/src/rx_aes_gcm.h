/* AES-256-GCM encryption (NIST SP 800-38D) with a 12-byte nonce and a 16-byte tag, small and allocation-free, for
 * the sealed statuses of named receivers (MQIMG_RX_WITH_IDENTITY): mbedTLS's GCM allocates its cipher context
 * (mbedtls_cipher_setup) and libsodium's needs AES-NI, which no ESP32 has. Encryption only; one status at a time, so
 * speed is no concern (byte-wise AES, bit-wise GHASH). */
#ifndef RX_AES_GCM_H
#define RX_AES_GCM_H
#include <stddef.h>
#include <stdint.h>

/** Encrypts `data` (`len` bytes) in place under `key` and `nonce`, authenticating `aad` too; writes the tag. */
void rx_aes256_gcm_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                        uint8_t *data, size_t len, uint8_t tag[16]);
#endif
