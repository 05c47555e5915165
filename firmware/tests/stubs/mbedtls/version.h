/* Stand-in for mbedTLS 3's version.h (ESP-IDF 5 ships mbedTLS 3.x): only what mqimg_rx reads. For the rv32 builds
 * of firmware/scripts/device-test.sh, where no mbedTLS is installed. */
#ifndef MBEDTLS_VERSION_H
#define MBEDTLS_VERSION_H
#define MBEDTLS_VERSION_NUMBER 0x03040000
#endif
