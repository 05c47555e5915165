import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, SAMPLES } from '../helpers/cli.js';
import { tempDir, visibleFiles } from '../helpers/files.js';
import { type MosquittoProcess, mosquittoRequired, startMosquitto } from '../helpers/mosquitto.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/tls-certs.js';
import { transfer } from '../helpers/transfer.js';
import { startWssBroker } from '../helpers/wss-broker.js';

const IMAGE = join(SAMPLES, 'landscape.jpg');

/** `receive --once` and `send` of the sample with the given connection arguments (and extra ones for each side). */
const transferImage = (rxArgs: string[], txArgs: string[]) =>
  transfer({
    rx: ['--timeout', '10', ...rxArgs],
    tx: [IMAGE, '--topic', 'cam/1', '--timeout', '10', ...txArgs],
  });

/** A password file with `users` (name -> password), readable by the broker. */
function passwordFile(dir: string, users: Record<string, string>): string {
  const path = join(dir, 'passwords');
  writeFileSync(path, '');
  for (const [user, password] of Object.entries(users))
    execFileSync('mosquitto_passwd', ['-b', path, user, password]);
  // Mosquitto started as root reads its files as the 'mosquitto' user.
  chmodSync(dir, 0o755);
  chmodSync(path, 0o644);
  return path;
}

/** Broker connection security, against real Mosquitto listeners the tests configure (TLS certificates by openssl). */
describe.skipIf(!mosquittoRequired())('TLS, passwords and ACLs on a real Mosquitto', () => {
  let certs: TestCertificates;
  let tls: MosquittoProcess;
  let mutual: MosquittoProcess;
  beforeAll(async () => {
    certs = makeTestCertificates();
    const serverTls = [
      `cafile ${certs.caCert}`,
      `certfile ${certs.serverCert}`,
      `keyfile ${certs.serverKey}`,
    ];
    tls = await startMosquitto(serverTls);
    mutual = await startMosquitto([...serverTls, 'require_certificate true']);
  });
  afterAll(async () => {
    await tls?.stop();
    await mutual?.stop();
  });
  const tlsUrl = (broker: MosquittoProcess, host = 'localhost') => `mqtts://${host}:${broker.port}`;

  it('sends and receives over mqtts:// when the broker certificate chains to --ca', async () => {
    const args = ['--url', tlsUrl(tls), '--ca', certs.caCert];
    const { tx, rx, out } = await transferImage(args, args);
    expect(tx.code, tx.stderr).toBe(0);
    expect(rx.code, rx.stderr).toBe(0);
    expect(visibleFiles(out)).toEqual(['landscape.jpg']);
  });

  it('refuses a broker certificate it cannot trust, or one for another host name, with exit 8 and no hang', async () => {
    const noCa = await runCli(['send', IMAGE, '--topic', 'cam/1', '--url', tlsUrl(tls)]);
    expect(noCa.code).toBe(8);
    expect(noCa.stderr).toMatch(/certificate .* is not trusted .*--ca FILE/);
    const wrongCa = await runCli([
      'receive',
      '--out',
      tempDir(),
      '--url',
      tlsUrl(tls),
      '--ca',
      certs.otherCaCert,
    ]);
    expect(wrongCa.code).toBe(8);
    expect(wrongCa.stderr).toMatch(/not trusted/);
    // The certificate names localhost; 127.0.0.1 is the same machine but not the same name.
    const mismatch = await runCli([
      'send',
      IMAGE,
      '--topic',
      'cam/1',
      '--url',
      tlsUrl(tls, '127.0.0.1'),
      '--ca',
      certs.caCert,
    ]);
    expect(mismatch.code).toBe(8);
    expect(mismatch.stderr).toMatch(/does not name the host/);
  });

  it('skips the certificate check only with --insecure, and says so', async () => {
    const args = ['--url', tlsUrl(tls, '127.0.0.1'), '--insecure'];
    const { tx, rx } = await transferImage(args, args);
    expect(tx.code, tx.stderr).toBe(0);
    expect(rx.code, rx.stderr).toBe(0);
    expect(tx.stderr).toMatch(/warning: --insecure/);
    const plain = await runCli(['send', IMAGE, '--topic', 'cam/1', '--insecure']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toMatch(/only work with TLS/);
  });

  it('works over wss:// with --ca, and refuses an untrusted certificate there too', async () => {
    const wss = await startWssBroker(certs.serverCert, certs.serverKey);
    try {
      const url = `wss://localhost:${wss.port}`;
      const args = ['--url', url, '--ca', certs.caCert];
      const { tx, rx, out } = await transferImage(args, args);
      expect(tx.code, tx.stderr).toBe(0);
      expect(rx.code, rx.stderr).toBe(0);
      expect(visibleFiles(out)).toEqual(['landscape.jpg']);
      const untrusted = await runCli(['send', IMAGE, '--topic', 'cam/1', '--url', url]);
      expect(untrusted.code, untrusted.stderr).toBe(8);
      expect(untrusted.stderr).toMatch(/not trusted/);
    } finally {
      await wss.stop();
    }
  });

  it('does mutual TLS with --cert/--key, and refuses a client without a certificate or with a stranger one', async () => {
    const args = ['--url', tlsUrl(mutual), '--ca', certs.caCert];
    const withCert = [...args, '--cert', certs.clientCert, '--key', certs.clientKey];
    const { tx, rx } = await transferImage(withCert, withCert);
    expect(tx.code, tx.stderr).toBe(0);
    expect(rx.code, rx.stderr).toBe(0);
    const without = await runCli(['receive', '--out', tempDir(), ...args]);
    expect(without.code, without.stderr).toBe(8);
    expect(without.stderr).toMatch(/refused this client's certificate/);
    const stranger = await runCli([
      'receive',
      '--out',
      tempDir(),
      ...args,
      '--cert',
      certs.strangerCert,
      '--key',
      certs.strangerKey,
    ]);
    expect(stranger.code, stranger.stderr).toBe(8);
    expect(stranger.stderr).toMatch(/refused this client's certificate/);
    const half = await runCli(['receive', '--out', tempDir(), ...args, '--cert', certs.clientCert]);
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(/needs both --cert and --key/);
  });

  it('reads the password from --password-file; a wrong one exits 5; a missing file exits 2', async () => {
    const dir = tempDir();
    const passwords = passwordFile(dir, { camera: 'right horse battery' });
    const broker = await startMosquitto(['allow_anonymous false', `password_file ${passwords}`]);
    try {
      const good = join(dir, 'good');
      writeFileSync(good, 'right horse battery\n', { mode: 0o600 });
      const bad = join(dir, 'bad');
      writeFileSync(bad, 'wrong\n', { mode: 0o600 });
      const args = ['--url', broker.url, '--username', 'camera', '--password-file', good];
      const { tx, rx } = await transferImage(args, args);
      expect(tx.code, tx.stderr).toBe(0);
      expect(rx.code, rx.stderr).toBe(0);
      const refused = await runCli([
        'send',
        IMAGE,
        '--topic',
        'cam/1',
        '--url',
        broker.url,
        '--username',
        'camera',
        '--password-file',
        bad,
      ]);
      expect(refused.code).toBe(5);
      expect(refused.stderr).toMatch(/refused the user name or password|not authorised/);
      const missing = await runCli([
        'receive',
        '--out',
        dir,
        '--username',
        'camera',
        '--password-file',
        join(dir, 'nope'),
      ]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/--password-file .*no such file/);
    } finally {
      await broker.stop();
    }
  });

  it("works under the README's least-privilege ACL, and the ACL stops what it should", async () => {
    const dir = tempDir();
    const passwords = passwordFile(dir, { camera: 'cam-secret', display: 'display-secret' });
    const acl = join(dir, 'acl');
    // The ACL from README.md, section Security: keep the two in step.
    writeFileSync(
      acl,
      [
        'user camera',
        'topic write cam/1/mqimg/+/m',
        'topic write cam/1/mqimg/+/h/+',
        'topic write cam/1/mqimg/+/c/+',
        'topic read cam/1/mqimg/+/r',
        '',
        'user display',
        'topic read cam/1/mqimg/+/m',
        'topic read cam/1/mqimg/+/h/+',
        'topic read cam/1/mqimg/+/c/+',
        'topic read cam/1/mqimg/retained',
        'topic write cam/1/mqimg/+/r',
        '',
      ].join('\n'),
    );
    chmodSync(acl, 0o644);
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(readFileSync(acl, 'utf8').trim());
    const broker = await startMosquitto([
      'allow_anonymous false',
      `password_file ${passwords}`,
      `acl_file ${acl}`,
    ]);
    try {
      const camera = ['--url', broker.url, '--username', 'camera', '--password', 'cam-secret'];
      const display = ['--url', broker.url, '--username', 'display', '--password', 'display-secret'];
      for (const version of ['5', '3.1.1']) {
        const { tx, rx, out } = await transferImage(
          [...display, '--topic', 'cam/1', '--mqtt-version', version],
          [...camera, '--mqtt-version', version],
        );
        expect(tx.code, tx.stderr).toBe(0);
        expect(rx.code, rx.stderr).toBe(0);
        expect(visibleFiles(out)).toEqual(['landscape.jpg']);
      }
      // The camera may not send anywhere else: MQTT 5 says so at once (exit 5).
      const elsewhere = await runCli([
        'send',
        IMAGE,
        '--topic',
        'cam/2',
        '--timeout',
        '3',
        ...camera,
        '--mqtt-version',
        '5',
      ]);
      expect(elsewhere.code, elsewhere.stderr).toBe(5);
      expect(elsewhere.stderr).toMatch(/refused to let this client publish on cam\/2/);
      // A display may not publish a manifest on the camera's topic: nobody but the camera can start a transfer there.
      const intruder = await mqtt.connectAsync(broker.url, {
        protocolVersion: 5,
        username: 'display',
        password: 'display-secret',
      });
      try {
        const refusal = await intruder.publishAsync('cam/1/mqimg/0123456789abcdef/m', '{}', { qos: 1 }).then(
          () => undefined,
          (error: { code?: number }) => error.code,
        );
        expect(refusal).toBe(0x87);
      } finally {
        await intruder.endAsync();
      }
    } finally {
      await broker.stop();
    }
  });
});
