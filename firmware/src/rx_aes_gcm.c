/* AES-256-GCM encryption, for sealed statuses (MQIMG_RX_WITH_IDENTITY only); see rx_aes_gcm.h. */
#include "mqimg_rx.h"
#ifdef MQIMG_RX_WITH_IDENTITY
#include <string.h>
#include "rx_aes_gcm.h"

static const uint8_t SBOX[256] = {
    0x63, 0x7c, 0x77, 0x7b, 0xf2, 0x6b, 0x6f, 0xc5, 0x30, 0x01, 0x67, 0x2b, 0xfe, 0xd7, 0xab, 0x76,
    0xca, 0x82, 0xc9, 0x7d, 0xfa, 0x59, 0x47, 0xf0, 0xad, 0xd4, 0xa2, 0xaf, 0x9c, 0xa4, 0x72, 0xc0,
    0xb7, 0xfd, 0x93, 0x26, 0x36, 0x3f, 0xf7, 0xcc, 0x34, 0xa5, 0xe5, 0xf1, 0x71, 0xd8, 0x31, 0x15,
    0x04, 0xc7, 0x23, 0xc3, 0x18, 0x96, 0x05, 0x9a, 0x07, 0x12, 0x80, 0xe2, 0xeb, 0x27, 0xb2, 0x75,
    0x09, 0x83, 0x2c, 0x1a, 0x1b, 0x6e, 0x5a, 0xa0, 0x52, 0x3b, 0xd6, 0xb3, 0x29, 0xe3, 0x2f, 0x84,
    0x53, 0xd1, 0x00, 0xed, 0x20, 0xfc, 0xb1, 0x5b, 0x6a, 0xcb, 0xbe, 0x39, 0x4a, 0x4c, 0x58, 0xcf,
    0xd0, 0xef, 0xaa, 0xfb, 0x43, 0x4d, 0x33, 0x85, 0x45, 0xf9, 0x02, 0x7f, 0x50, 0x3c, 0x9f, 0xa8,
    0x51, 0xa3, 0x40, 0x8f, 0x92, 0x9d, 0x38, 0xf5, 0xbc, 0xb6, 0xda, 0x21, 0x10, 0xff, 0xf3, 0xd2,
    0xcd, 0x0c, 0x13, 0xec, 0x5f, 0x97, 0x44, 0x17, 0xc4, 0xa7, 0x7e, 0x3d, 0x64, 0x5d, 0x19, 0x73,
    0x60, 0x81, 0x4f, 0xdc, 0x22, 0x2a, 0x90, 0x88, 0x46, 0xee, 0xb8, 0x14, 0xde, 0x5e, 0x0b, 0xdb,
    0xe0, 0x32, 0x3a, 0x0a, 0x49, 0x06, 0x24, 0x5c, 0xc2, 0xd3, 0xac, 0x62, 0x91, 0x95, 0xe4, 0x79,
    0xe7, 0xc8, 0x37, 0x6d, 0x8d, 0xd5, 0x4e, 0xa9, 0x6c, 0x56, 0xf4, 0xea, 0x65, 0x7a, 0xae, 0x08,
    0xba, 0x78, 0x25, 0x2e, 0x1c, 0xa6, 0xb4, 0xc6, 0xe8, 0xdd, 0x74, 0x1f, 0x4b, 0xbd, 0x8b, 0x8a,
    0x70, 0x3e, 0xb5, 0x66, 0x48, 0x03, 0xf6, 0x0e, 0x61, 0x35, 0x57, 0xb9, 0x86, 0xc1, 0x1d, 0x9e,
    0xe1, 0xf8, 0x98, 0x11, 0x69, 0xd9, 0x8e, 0x94, 0x9b, 0x1e, 0x87, 0xe9, 0xce, 0x55, 0x28, 0xdf,
    0x8c, 0xa1, 0x89, 0x0d, 0xbf, 0xe6, 0x42, 0x68, 0x41, 0x99, 0x2d, 0x0f, 0xb0, 0x54, 0xbb, 0x16,
};

static uint8_t xtime(uint8_t x) { return (uint8_t)((x << 1) ^ ((x & 0x80) ? 0x1b : 0)); }

/* FIPS 197 key expansion for a 256-bit key: 15 round keys of 16 bytes. */
static void expand_key(const uint8_t key[32], uint8_t rk[240]) {
  uint8_t rcon = 1;
  memcpy(rk, key, 32);
  for (unsigned i = 8; i < 60; i++) {
    uint8_t t[4];
    memcpy(t, rk + 4 * (i - 1), 4);
    if (i % 8 == 0) {
      uint8_t first = t[0];
      t[0] = (uint8_t)(SBOX[t[1]] ^ rcon);
      t[1] = SBOX[t[2]];
      t[2] = SBOX[t[3]];
      t[3] = SBOX[first];
      rcon = xtime(rcon);
    } else if (i % 8 == 4) {
      for (int k = 0; k < 4; k++) t[k] = SBOX[t[k]];
    }
    for (int k = 0; k < 4; k++) rk[4 * i + k] = (uint8_t)(rk[4 * (i - 8) + k] ^ t[k]);
  }
}

/* One block: the state is in byte order, column c at s[4c..4c+3]. */
static void encrypt_block(const uint8_t rk[240], const uint8_t in[16], uint8_t out[16]) {
  uint8_t s[16], t[16];
  for (int i = 0; i < 16; i++) s[i] = (uint8_t)(in[i] ^ rk[i]);
  for (int round = 1; round <= 14; round++) {
    /* SubBytes and ShiftRows: row r of column c comes from column c + r */
    for (int c = 0; c < 4; c++)
      for (int r = 0; r < 4; r++) t[4 * c + r] = SBOX[s[4 * ((c + r) & 3) + r]];
    if (round < 14) { /* MixColumns */
      for (int c = 0; c < 4; c++) {
        uint8_t *col = t + 4 * c, a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
        uint8_t all = (uint8_t)(a0 ^ a1 ^ a2 ^ a3);
        col[0] = (uint8_t)(a0 ^ all ^ xtime((uint8_t)(a0 ^ a1)));
        col[1] = (uint8_t)(a1 ^ all ^ xtime((uint8_t)(a1 ^ a2)));
        col[2] = (uint8_t)(a2 ^ all ^ xtime((uint8_t)(a2 ^ a3)));
        col[3] = (uint8_t)(a3 ^ all ^ xtime((uint8_t)(a3 ^ a0)));
      }
    }
    for (int i = 0; i < 16; i++) s[i] = (uint8_t)(t[i] ^ rk[16 * round + i]);
  }
  memcpy(out, s, 16);
}

/* x = x * h in GF(2^128), GCM's bit order (SP 800-38D, algorithm 1). */
static void gf_mul(uint8_t x[16], const uint8_t h[16]) {
  uint8_t z[16] = {0}, v[16];
  memcpy(v, h, 16);
  for (int i = 0; i < 128; i++) {
    if ((x[i >> 3] >> (7 - (i & 7))) & 1)
      for (int k = 0; k < 16; k++) z[k] ^= v[k];
    int lsb = v[15] & 1;
    for (int k = 15; k > 0; k--) v[k] = (uint8_t)((v[k] >> 1) | (v[k - 1] << 7));
    v[0] >>= 1;
    if (lsb) v[0] ^= 0xe1;
  }
  memcpy(x, z, 16);
}

static void ghash(uint8_t y[16], const uint8_t h[16], const uint8_t *d, size_t len) {
  for (size_t off = 0; off < len; off += 16) {
    size_t n = len - off < 16 ? len - off : 16;
    for (size_t k = 0; k < n; k++) y[k] ^= d[off + k];
    gf_mul(y, h);
  }
}

void rx_aes256_gcm_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                        uint8_t *data, size_t len, uint8_t tag[16]) {
  uint8_t rk[240], h[16] = {0}, j0[16], ctr[16], ks[16], y[16] = {0}, lens[16];
  expand_key(key, rk);
  encrypt_block(rk, h, h);
  memcpy(j0, nonce, 12);
  j0[12] = j0[13] = j0[14] = 0;
  j0[15] = 1;
  memcpy(ctr, j0, 16);
  for (size_t off = 0; off < len; off += 16) {
    for (int k = 15; k >= 12; k--) /* inc32 */
      if (++ctr[k] != 0) break;
    encrypt_block(rk, ctr, ks);
    size_t n = len - off < 16 ? len - off : 16;
    for (size_t k = 0; k < n; k++) data[off + k] ^= ks[k];
  }
  ghash(y, h, aad, aad_len);
  ghash(y, h, data, len);
  uint64_t abits = (uint64_t)aad_len * 8, cbits = (uint64_t)len * 8;
  for (int k = 0; k < 8; k++) {
    lens[k] = (uint8_t)(abits >> (56 - 8 * k));
    lens[8 + k] = (uint8_t)(cbits >> (56 - 8 * k));
  }
  ghash(y, h, lens, 16);
  encrypt_block(rk, j0, ks);
  for (int k = 0; k < 16; k++) tag[k] = (uint8_t)(y[k] ^ ks[k]);
  memset(rk, 0, sizeof rk);
}
#else
typedef int rx_aes_gcm_not_built; /* ISO C forbids an empty translation unit */
#endif
