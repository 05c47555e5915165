import { ConnectionError } from '../errors.js';

/**
 * The broker refused the MQTT 5 CONNECT (or hung up on it): `connect` then tries MQTT 3.1.1 when the version is
 * 'auto', and reports a `ConnectionError` that names `--mqtt-version` when it is not.
 */
export class VersionRefused extends Error {
  override readonly name = 'VersionRefused';
}

/** An error from mqtt.js or the socket under it: `code` is a CONNACK return/reason code or a Node error code. */
export type ClientError = Error & { code?: string | number };

/**
 * Turns what went wrong on the first connection to `url` with protocol `version` (5, or 4 for 3.1.1) into an
 * error that says why and what to do: a `VersionRefused` when an MQTT 5 CONNECT was refused for its version
 * (CONNACK reason 132, or return code 1 from a 3.1.1 broker), otherwise a `ConnectionError` (`auth_refused`,
 * `tls_failed` or `broker_unreachable`). Pure: no I/O.
 */
export function describeConnectError(
  error: ClientError,
  url: string,
  version: 4 | 5,
): ConnectionError | VersionRefused {
  const code = error.code;
  if (version === 5 && (code === 132 || code === 1)) return new VersionRefused(error.message);
  if (code === 4 || code === 134) {
    return new ConnectionError(
      'auth_refused',
      `the broker at ${url} refused the user name or password: check --username and --password (or MQIMG_PASSWORD)`,
      error,
    );
  }
  if (code === 5 || code === 135) {
    return new ConnectionError(
      'auth_refused',
      `the broker at ${url} says this client is not authorised: check the credentials and the broker's ACL`,
      error,
    );
  }
  const tls = describeTlsError(error, url);
  if (tls) return tls;
  if (code === 'ECONNREFUSED') {
    return new ConnectionError(
      'broker_unreachable',
      `nothing accepts connections at ${url} (connection refused): start a broker (mqimg broker) or check --url`,
      error,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ConnectionError(
      'broker_unreachable',
      `cannot resolve the broker host in ${url}: check --url`,
      error,
    );
  }
  return new ConnectionError('broker_unreachable', `cannot connect to ${url}: ${error.message}`, error);
}

/** The first connection to `url` got no CONNACK within `timeoutMs` milliseconds. */
export function connectTimedOut(url: string, timeoutMs: number): ConnectionError {
  return new ConnectionError(
    'broker_unreachable',
    `no answer from the broker at ${url} within ${timeoutMs} ms: check --url and that the broker is running`,
  );
}

/**
 * The broker at `url` closed the connection before its CONNACK. With MQTT 5 that is a `VersionRefused`: a broker
 * that does not speak MQTT 5 may just hang up on a v5 CONNECT.
 */
export function closedBeforeConnack(url: string, version: 4 | 5): ConnectionError | VersionRefused {
  if (version === 5) return new VersionRefused('the broker closed the connection');
  return new ConnectionError(
    'broker_unreachable',
    `the broker at ${url} closed the connection before accepting it`,
  );
}

/** What to tell a user who asked for MQTT 5 explicitly (`--mqtt-version 5`) of a broker that refused it. */
export function versionRefusedError(url: string, refused: VersionRefused): ConnectionError {
  return new ConnectionError(
    'broker_unreachable',
    `the broker at ${url} refused MQTT 5 (${refused.message}): use --mqtt-version 3.1.1, or auto to fall back by itself`,
    refused,
  );
}

/** Node's codes for a broker certificate that does not chain to a trusted CA. */
const UNTRUSTED_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/** A `tls_failed` error that says which TLS check failed and what to do, or undefined for other errors. */
function describeTlsError(error: ClientError, url: string): ConnectionError | undefined {
  const code = typeof error.code === 'string' ? error.code : '';
  const fail = (message: string) => new ConnectionError('tls_failed', message, error);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return fail(
      `the broker's certificate does not name the host in ${url} (${error.message}): connect with the host name the certificate was issued for`,
    );
  }
  if (UNTRUSTED_CERT_CODES.has(code)) {
    return fail(
      `the broker's certificate at ${url} is not trusted (${code}): pass its CA certificate with --ca FILE (--insecure skips the check, unsafely)`,
    );
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return fail(
      `the broker's certificate at ${url} is not valid now (${code}): renew it, or check this machine's clock`,
    );
  }
  if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|DECRYPT_ERROR/i.test(code)) {
    return fail(
      `the broker at ${url} refused this client's certificate (${code}): it wants one signed by a CA it trusts, given with --cert FILE and --key FILE`,
    );
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return fail(
      `the server at ${url} does not speak TLS there (${code}): use mqtt:// for a plain port, or the broker's TLS port`,
    );
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') {
    return fail(`TLS with the broker at ${url} failed: ${error.message}`);
  }
  return undefined;
}
