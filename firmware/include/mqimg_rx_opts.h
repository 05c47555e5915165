/*
 * mqimg_rx_opts.h: the library's tunables, in one header that the library and the application both include (as
 * lwIP's lwipopts.h or TJpgDec's tjpgdcnf.h). Change a value HERE (or with -D given to the library's sources and to
 * the application's alike, e.g. as a PUBLIC compile definition in CMake), never with a -D or #define seen by one side
 * only: several of these change the size of the state. mqimg_rx_init() compares the library's values with the ones
 * the application was compiled with and refuses a mismatch with a message in the caller's buffer (mqimg_rx.h).
 */
#ifndef MQIMG_RX_OPTS_H
#define MQIMG_RX_OPTS_H

/* An application may keep its own values in a header of its own: -DMQIMG_RX_USER_OPTS='"my_mqimg_opts.h"' (for
 * the library and the application alike). It is read first; what it does not define keeps the defaults below. */
#ifdef MQIMG_RX_USER_OPTS
#include MQIMG_RX_USER_OPTS
#endif

/** Longest sender topic `T` the receiver answers on, in bytes (statuses go to `T/mqimg/ID/r`). State: 4 per byte. */
#ifndef MQIMG_RX_MAX_TOPIC
#define MQIMG_RX_MAX_TOPIC 128
#endif
/** Most ranges in a status's `missing` (the protocol allows 64; fewer keep the status buffer small). */
#ifndef MQIMG_RX_MAX_RANGES
#define MQIMG_RX_MAX_RANGES 32
#endif
/** Repair requests remembered for their repeat interval (section 7.2, item 3); the oldest is forgotten first. */
#ifndef MQIMG_RX_MAX_ASKED
#define MQIMG_RX_MAX_ASKED 48
#endif
/** Finished transfers whose final status is repeated when their messages come again (section 7.2, item 7). */
#ifndef MQIMG_RX_MAX_FINISHED
#define MQIMG_RX_MAX_FINISHED 4
#endif
/** Unknown transfer ids answered with `want-manifest` at most once a second each (section 7.2, item 6). */
#ifndef MQIMG_RX_MAX_UNKNOWN
#define MQIMG_RX_MAX_UNKNOWN 4
#endif
/** Trusted Ed25519 keys (builds with MQIMG_RX_WITH_SODIUM only). */
#ifndef MQIMG_RX_MAX_KEYS
#define MQIMG_RX_MAX_KEYS 2
#endif
/** Bytes read back at a time through `read` (chunks stored before their hash page, checked once it came); on the
 * stack. */
#ifndef MQIMG_RX_READ_PIECE
#define MQIMG_RX_READ_PIECE 256
#endif
/**
 * Work per call, in chunks' worth of hashing (1 to 64): chunks that came before their hash page are read back
 * through `read` and checked once it comes (one SHA-256 pass each), spread over calls: one call of
 * mqimg_rx_on_message, mqimg_rx_on_message_part or mqimg_rx_poll checks at most MQIMG_RX_WORK_PER_CALL of them,
 * beside its own message. mqimg_rx_work_left() says when more is waiting (call mqimg_rx_poll again soon). Nothing
 * else is caught up: protocol 3's proof of receipt is built from each chunk's hash as it is stored, and a chunk that
 * fills a gap costs what any chunk costs. 2: a call does at most about 3 chunks' worth of the instructions a chunk
 * costs in order (firmware/README.md, "Bounded work per call").
 */
#ifndef MQIMG_RX_WORK_PER_CALL
#define MQIMG_RX_WORK_PER_CALL 2
#endif
/**
 * SHA-256: 0 (default) uses mbedTLS's (ESP-IDF and the Arduino ESP32 core have it, hardware-backed on ESP32s);
 * 1 uses the library's own portable C implementation (src/rx_sha256.c), for targets without mbedTLS. Both are
 * checked against the same vectors in CI (firmware/tests/test_sha256.c).
 */
#ifndef MQIMG_RX_BUILTIN_SHA256
#define MQIMG_RX_BUILTIN_SHA256 0
#endif

#endif
