import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors.js';
import {
  type ClientError,
  closedBeforeConnack,
  connectTimedOut,
  describeConnectError,
  VersionRefused,
  versionRefusedError,
} from '../../src/transport/connect-errors.js';

const URL = 'mqtts://broker.example:8883';

function clientError(code: string | number | undefined, message = 'boom'): ClientError {
  const error: ClientError = new Error(message);
  if (code !== undefined) error.code = code;
  return error;
}

function asConnectionError(error: Error): ConnectionError {
  expect(error).toBeInstanceOf(ConnectionError);
  return error as ConnectionError;
}

describe('describeConnectError', () => {
  it.each([132, 1])('turns an MQTT 5 refusal with code %s into VersionRefused', (code) => {
    const error = describeConnectError(clientError(code, 'Unsupported protocol version'), URL, 5);
    expect(error).toBeInstanceOf(VersionRefused);
    expect(error.message).toBe('Unsupported protocol version');
  });

  it('does not read code 1 as a version refusal on MQTT 3.1.1', () => {
    const error = asConnectionError(describeConnectError(clientError(1), URL, 4));
    expect(error.code).toBe('broker_unreachable');
  });

  it.each([
    [4, 4],
    [134, 5],
  ] as const)('says code %s (MQTT %s) is a bad user name or password', (code, version) => {
    const error = asConnectionError(describeConnectError(clientError(code), URL, version));
    expect(error.code).toBe('auth_refused');
    expect(error.message).toContain('--username and --password');
    expect(error.message).toContain(URL);
  });

  it.each([
    [5, 4],
    [135, 5],
  ] as const)('says code %s (MQTT %s) is not authorised', (code, version) => {
    const error = asConnectionError(describeConnectError(clientError(code), URL, version));
    expect(error.code).toBe('auth_refused');
    expect(error.message).toContain('not authorised');
  });

  it.each([
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'does not name the host'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', '--ca FILE'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', '--ca FILE'],
    ['CERT_HAS_EXPIRED', 'not valid now'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', '--cert FILE and --key FILE'],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', '--cert FILE and --key FILE'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'does not speak TLS'],
    ['ERR_SSL_SOMETHING_ELSE', 'TLS with the broker'],
    ['EPROTO', 'TLS with the broker'],
  ])('maps TLS code %s to tls_failed (%s)', (code, text) => {
    const error = asConnectionError(describeConnectError(clientError(code), URL, 5));
    expect(error.code).toBe('tls_failed');
    expect(error.message).toContain(text);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it.each([
    ['ECONNREFUSED', 'connection refused'],
    ['ENOTFOUND', 'cannot resolve'],
    ['EAI_AGAIN', 'cannot resolve'],
  ])('maps %s to broker_unreachable', (code, text) => {
    const error = asConnectionError(describeConnectError(clientError(code), URL, 5));
    expect(error.code).toBe('broker_unreachable');
    expect(error.message).toContain(text);
  });

  it('passes any other error on as broker_unreachable with its message', () => {
    const cause = clientError(undefined, 'socket hang up');
    const error = asConnectionError(describeConnectError(cause, URL, 5));
    expect(error.code).toBe('broker_unreachable');
    expect(error.message).toBe(`cannot connect to ${URL}: socket hang up`);
    expect(error.cause).toBe(cause);
  });
});

describe('the other first-connection failures', () => {
  it('a timeout names the URL and the time', () => {
    const error = connectTimedOut(URL, 2500);
    expect(error.code).toBe('broker_unreachable');
    expect(error.message).toContain('within 2500 ms');
  });

  it('a broker that hangs up on MQTT 5 may not speak it; on 3.1.1 it is unreachable', () => {
    expect(closedBeforeConnack(URL, 5)).toBeInstanceOf(VersionRefused);
    const error = asConnectionError(closedBeforeConnack(URL, 4));
    expect(error.code).toBe('broker_unreachable');
  });

  it('an explicit MQTT 5 that the broker refuses suggests --mqtt-version', () => {
    const refused = new VersionRefused('Unsupported protocol version');
    const error = versionRefusedError(URL, refused);
    expect(error.code).toBe('broker_unreachable');
    expect(error.message).toContain('--mqtt-version 3.1.1');
    expect(error.cause).toBe(refused);
  });
});
