import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UsageError } from '../errors.js';
import { SECRET_BYTES } from '../protocol/security/encryption.js';
import { x25519PublicFromEd25519 } from '../protocol/security/recipient.js';
import type { NamedRecipient, SigningKey } from '../session/send/outgoing-transfer.js';
import { errnoCode, errnoMessage } from '../util/errno-message.js';
import {
  publicKeyId,
  type ReceiverIdentity,
  rawPublicKey,
  secretKeyId,
  x25519PrivateFromEd25519,
} from './node-keys.js';

/** Reads a key file, with a UsageError that names the option when it cannot be read. */
async function readKeyFile(option: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(`${option} ${path}: cannot read it (${errnoMessage(error)})`);
  }
}

/** Writes a file that must not exist yet, with `mode`; a UsageError says so when it does. */
async function writeNew(path: string, data: string, mode: number): Promise<void> {
  try {
    await writeFile(path, data, { flag: 'wx', mode });
  } catch (error) {
    if (errnoCode(error) === 'EEXIST')
      throw new UsageError(`${path} already exists: mqimg keygen never overwrites a key`);
    if (errnoCode(error) === 'ENOENT')
      throw new UsageError(
        `cannot write ${path}: the folder ${dirname(path)} does not exist (create it first: mkdir -p ${dirname(path)})`,
      );
    throw new UsageError(`cannot write ${path} (${errnoMessage(error)})`);
  }
}

/**
 * `mqimg keygen NAME`: writes a new Ed25519 key pair, `NAME.key` (PKCS#8 PEM, mode 0600, for `send --sign`) and
 * `NAME.pub` (SPKI PEM, for receivers' `--trust`). A NAME given as `camera.key` or `camera.pub` means `camera`.
 * Returns the paths and the key id.
 */
export async function writeSigningKeyPair(
  nameOrPath: string,
): Promise<{ keyPath: string; pubPath: string; kid: string }> {
  const name = nameOrPath.replace(/\.(key|pub)$/, '');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyPath = `${name}.key`;
  const pubPath = `${name}.pub`;
  // Neither half is written when the other exists: no lone key is left behind.
  for (const path of [keyPath, pubPath]) {
    if (
      await stat(path).then(
        () => true,
        () => false,
      )
    )
      throw new UsageError(`${path} already exists: mqimg keygen never overwrites a key`);
  }
  await writeNew(keyPath, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 0o600);
  await writeNew(pubPath, publicKey.export({ format: 'pem', type: 'spki' }).toString(), 0o644);
  return { keyPath, pubPath, kid: publicKeyId(publicKey) };
}

/** `mqimg keygen --secret FILE`: writes 32 random bytes, base64, mode 0600, for `--encrypt` on both sides. */
export async function writeSecret(path: string): Promise<{ kid: string }> {
  const secret = randomBytes(SECRET_BYTES);
  await writeNew(path, `${secret.toString('base64')}\n`, 0o600);
  return { kid: secretKeyId(secret) };
}

/** Loads an Ed25519 private key (PEM) for `--sign`. */
export function loadSigningKey(path: string): Promise<SigningKey> {
  return loadPrivateKey('--sign', path);
}

/** An Ed25519 private key (PEM, as `mqimg keygen` writes NAME.key) and its key id; `option` names it in errors. */
async function loadPrivateKey(option: string, path: string): Promise<SigningKey> {
  const pem = await readKeyFile(option, path);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new UsageError(
      `${option} ${path}: not a private key in PEM form (make one with mqimg keygen NAME and pass NAME.key)`,
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new UsageError(
      `${option} ${path}: a ${privateKey.asymmetricKeyType} key; mqimg uses Ed25519 keys only`,
    );
  return { privateKey, kid: publicKeyId(createPublicKey(privateKey)) };
}

/**
 * Loads the public keys a receiver trusts (`--trust`): one PEM file, or every `*.pub` file in a folder. Returns
 * them by key id. A file that is not an Ed25519 public key is an error, not skipped: a typo must not silently
 * trust nobody (or somebody else).
 */
export function loadTrustedKeys(path: string): Promise<Map<string, KeyObject>> {
  return loadPublicKeys('--trust', path);
}

/**
 * Loads the receivers a sender names (`--recipient`, repeated): each a `.pub` file from `mqimg keygen`, or a folder
 * of them. The send then counts only these receivers, each by the statuses only its private key can seal.
 */
export async function loadRecipients(paths: readonly string[]): Promise<NamedRecipient[]> {
  const recipients = new Map<string, NamedRecipient>();
  for (const path of paths) {
    for (const [keyId, key] of await loadPublicKeys('--recipient', path)) {
      const x25519 = x25519PublicFromEd25519(rawPublicKey(key));
      if (!x25519)
        throw new UsageError(`--recipient ${path}: key ${keyId} is not a valid Ed25519 public key`);
      recipients.set(keyId, { keyId, x25519 });
    }
  }
  return [...recipients.values()];
}

/**
 * Loads a receiver's identity (`--identity`): the Ed25519 private key `mqimg keygen NAME` wrote as NAME.key. The
 * receiver's id becomes `k-<key id>`, and it answers senders that name it (`--recipient NAME.pub`) in statuses
 * sealed under a key derived from this one.
 */
export async function loadIdentity(path: string): Promise<ReceiverIdentity> {
  const { privateKey, kid } = await loadPrivateKey('--identity', path);
  return { keyId: kid, x25519Private: x25519PrivateFromEd25519(privateKey) };
}

/** One PEM public key file, or every `*.pub` file in a folder, by key id; `option` names them in errors. */
async function loadPublicKeys(option: string, path: string): Promise<Map<string, KeyObject>> {
  let files: string[];
  try {
    files = (await stat(path)).isDirectory()
      ? (await readdir(path))
          .filter((f) => f.endsWith('.pub'))
          .sort()
          .map((f) => join(path, f))
      : [path];
  } catch (error) {
    throw new UsageError(
      `${option} ${path}: cannot read it (${errnoMessage(error, { ENOENT: 'no such file or folder' })})`,
    );
  }
  if (files.length === 0) throw new UsageError(`${option} ${path}: the folder holds no .pub files`);
  const keys = new Map<string, KeyObject>();
  for (const file of files) {
    const pem = await readKeyFile(option, file);
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new UsageError(`${option} ${file}: not a public key in PEM form (mqimg keygen writes NAME.pub)`);
    }
    if (key.asymmetricKeyType !== 'ed25519')
      throw new UsageError(`${option} ${file}: a ${key.asymmetricKeyType} key; mqimg uses Ed25519 keys only`);
    keys.set(publicKeyId(key), key);
  }
  return keys;
}

/** Loads a shared secret for `--encrypt`: 32 bytes as base64 (what `keygen --secret` writes) or 64 hex digits. */
export async function loadSecret(path: string): Promise<Buffer> {
  const text = (await readKeyFile('--encrypt', path)).toString('utf8').trim();
  const secret = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, 'hex')
    : /^[A-Za-z0-9+/]{43}=$/.test(text)
      ? Buffer.from(text, 'base64')
      : undefined;
  if (!secret || secret.length !== SECRET_BYTES) {
    throw new UsageError(
      `--encrypt ${path}: not a shared secret (32 bytes as base64 or 64 hex digits); make one with mqimg keygen --secret FILE`,
    );
  }
  return secret;
}
