import { connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ConnectionError } from '../../errors.js';
import { brokerGiven } from './connection-options.js';

/** How long a probe of the broker's port may take, in milliseconds. */
const PROBE_MS = 1500;

/** A minimal MQTT 3.1.1 CONNECT (clean session, keep-alive 10 s, client id `mqimg-probe`). */
const PLAIN_CONNECT = Buffer.from([
  0x10,
  0x17,
  0x00,
  0x04,
  0x4d,
  0x51,
  0x54,
  0x54,
  0x04,
  0x02,
  0x00,
  0x0a,
  0x00,
  0x0b,
  ...Buffer.from('mqimg-probe'),
]);

/** True when the server at `host:port` answers a plain MQTT CONNECT with a CONNACK (first byte 0x20). */
export function speaksPlainMqtt(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const finish = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(false), PROBE_MS);
    socket.once('connect', () => socket.write(PLAIN_CONNECT));
    socket.once('data', (data) => finish(data[0] === 0x20));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

/** True when the server at `host:port` completes a TLS handshake (whatever its certificate). */
export function speaksTls(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, servername: undefined });
    const finish = (answer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => finish(false), PROBE_MS);
    socket.once('secureConnect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
  });
}

/** The user's own words for where the broker is: `-h/-p`, `--url`, `MQIMG_URL`... (connection-options.ts). */
const givenAs = () => brokerGiven.as;

/**
 * `error` made plainer, after the fact: a connection error whose advice says `--url` names the option the user
 * actually gave (`-h/-p`, MQIMG_URL, the config file); a reset or hang-up on an mqtts://, ws:// or wss:// URL is
 * probed, and said to be a plain MQTT port when it is one; a hang-up on an mqtt:// URL whose port speaks TLS is
 * said to be a TLS port. Any other error is returned as it is.
 */
export async function explainConnectionError(error: unknown): Promise<unknown> {
  if (!(error instanceof ConnectionError) || brokerGiven.url === undefined) return error;
  const url = new URL(brokerGiven.url);
  const scheme = url.protocol.slice(0, -1);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 }[scheme] || 1883);
  const hungUp = /ECONNRESET|EPIPE|closed the connection|socket hang up|Unexpected server response/i.test(
    error.message,
  );
  const where = `${host}:${port}`;
  if (hungUp && scheme !== 'mqtt' && (await speaksPlainMqtt(host, port))) {
    const spoke = scheme === 'mqtts' ? 'TLS' : scheme === 'ws' ? 'WebSocket' : 'TLS and WebSocket';
    return new ConnectionError(
      'broker_unreachable',
      `${where} is a plain MQTT port: it hung up on ${spoke}. Use mqtt://${where} there, or give the port of the broker's ${scheme === 'ws' ? 'WebSocket' : 'TLS'} listener (check ${givenAs()})`,
      error,
    );
  }
  if (hungUp && scheme === 'mqtt' && (await speaksTls(host, port))) {
    return new ConnectionError(
      'tls_failed',
      `${where} speaks TLS: connect with mqtts://${where} (and --cafile FILE for its CA), or give the broker's plain MQTT port (check ${givenAs()})`,
      error,
    );
  }
  if (givenAs() === '--url' || !/check --url/.test(error.message)) return error;
  return new ConnectionError(
    error.code as 'broker_unreachable',
    error.message.replace(/check --url/g, `check ${givenAs()}`),
    error.cause,
  );
}
