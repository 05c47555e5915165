import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './files.js';

/** Certificates made by `openssl` for one test run: PEM file paths. */
export interface TestCertificates {
  dir: string;
  /** The CA that signed the broker's and the client's certificates. */
  caCert: string;
  /** The broker's certificate (names only `localhost`) and key. */
  serverCert: string;
  serverKey: string;
  /** A client certificate for mutual TLS and its key. */
  clientCert: string;
  clientKey: string;
  /** A CA that signed nothing here: trusting it instead of `caCert` must fail. */
  otherCaCert: string;
  /** A client certificate signed by the other CA: a mutual-TLS broker must refuse it. */
  strangerCert: string;
  strangerKey: string;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });

/** Signs a new EC key's certificate for `subject` by CA `ca`, with `extensions` (an openssl extension file body). */
function makeLeaf(dir: string, name: string, ca: string, subject: string, extensions: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], dir);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  // Relative names without spaces (openssl runs in `dir`): the arguments can be written as one line.
  const sign = `x509 -req -in ${name}.csr -CA ${ca}.crt -CAkey ${ca}.key -CAcreateserial -days 2`;
  openssl([...sign.split(' '), '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
}

/** Makes a CA, a broker certificate for `localhost`, a client certificate, and a second, unrelated CA. */
export function makeTestCertificates(): TestCertificates {
  const dir = tempDir('mqimg-tls-');
  for (const ca of ['ca', 'other-ca']) {
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '2',
        '-subj',
        `/CN=mqimg test ${ca}`,
        '-keyout',
        `${ca}.key`,
        '-out',
        `${ca}.crt`,
      ],
      dir,
    );
  }
  makeLeaf(
    dir,
    'server',
    'ca',
    '/CN=localhost',
    'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  makeLeaf(dir, 'client', 'ca', '/CN=display-1', 'extendedKeyUsage=clientAuth\n');
  makeLeaf(dir, 'stranger', 'other-ca', '/CN=stranger', 'extendedKeyUsage=clientAuth\n');
  // Mosquitto started as root reads its files as the 'mosquitto' user.
  chmodSync(dir, 0o755);
  for (const f of ['ca.crt', 'server.crt', 'server.key']) chmodSync(join(dir, f), 0o644);
  const at = (f: string) => join(dir, f);
  return {
    dir,
    caCert: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    otherCaCert: at('other-ca.crt'),
    strangerCert: at('stranger.crt'),
    strangerKey: at('stranger.key'),
  };
}
