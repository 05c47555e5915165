import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { errnoCode, errnoMessage } from '../../util/errno-message.js';
import { nearestName } from '../../util/nearest-name.js';

/** Keys of config.json, with the option each stands for (its attribute name in commander). */
const KEYS = {
  url: 'url',
  username: 'username',
  'password-file': 'passwordFile',
  ca: 'cafile', // the attribute of `--ca, --cafile`
  cert: 'cert',
  key: 'key',
  'client-id': 'clientId',
} as const;
type Key = keyof typeof KEYS;
/** Keys whose value is a file: `~/` is the home folder, and a relative path is relative to config.json's folder. */
const FILE_KEYS: readonly Key[] = ['password-file', 'ca', 'cert', 'key'];

/**
 * Where connection defaults are read from: `$MQIMG_CONFIG`, else `$XDG_CONFIG_HOME/mqimg/config.json`, else
 * `~/.config/mqimg/config.json` (beside profiles.json).
 */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MQIMG_CONFIG) return env.MQIMG_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'mqimg', 'config.json');
}

/**
 * The connection defaults of config.json, checked: an object of the known keys with string values. Undefined when
 * there is no file (and `$MQIMG_CONFIG` names none); a file that cannot be read or is wrong is a UsageError that
 * names it.
 */
export function readConfig(path = configPath()): Partial<Record<Key, string>> | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' && !process.env.MQIMG_CONFIG) return undefined;
    throw new UsageError(`config file ${path}: cannot read it (${errnoMessage(error)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config file ${path}: not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(`config file ${path}: expected an object such as {"url": "mqtt://broker.lan:1883"}`);
  const config: Partial<Record<Key, string>> = {};
  for (const [key, setting] of Object.entries(value)) {
    if (!Object.hasOwn(KEYS, key)) {
      const near = nearestName(key, Object.keys(KEYS));
      throw new UsageError(
        `config file ${path}: unknown key "${key}"${near ? `; did you mean "${near}"?` : ''} (known: ${Object.keys(KEYS).join(', ')})`,
      );
    }
    // "url" may list several brokers to fail over between: ["mqtt://a:1883", "mqtt://b:1883"].
    if (key === 'url' && Array.isArray(setting)) {
      if (setting.length === 0 || setting.some((u) => typeof u !== 'string' || u.trim().length === 0))
        throw new UsageError(`config file ${path}: "url" must be a URL or a non-empty list of URLs`);
      config.url = setting.join(',');
      continue;
    }
    if (typeof setting !== 'string' || setting.length === 0)
      throw new UsageError(`config file ${path}: "${key}" must be a non-empty string`);
    const file = FILE_KEYS.includes(key as Key);
    config[key as Key] = file ? filePath(setting, path) : setting;
  }
  return config;
}

/** `setting` as a path: `~/x` in the home folder, a relative one beside the config file. */
function filePath(setting: string, configFile: string): string {
  if (setting === '~' || setting.startsWith('~/')) return join(homedir(), setting.slice(1));
  return isAbsolute(setting) ? setting : resolve(dirname(configFile), setting);
}

/**
 * Fills `command`'s connection options from config.json where neither the command line nor an MQIMG_* variable set
 * them (they win), and returns the file's path when it gave the broker's URL. A password on the command line or in
 * MQIMG_PASSWORD replaces the file's password-file; -h/-p replace the host and port of its URL.
 */
export function applyConfig(command: Command): string | undefined {
  const path = configPath();
  const config = readConfig(path);
  if (!config) return undefined;
  const given = (name: string) => ['cli', 'env'].includes(command.getOptionValueSource(name) ?? '');
  for (const [key, setting] of Object.entries(config)) {
    const name = KEYS[key as Key];
    if (given(name)) continue;
    if (name === 'passwordFile' && given('password')) continue;
    command.setOptionValueWithSource(name, setting, 'config');
  }
  return config.url !== undefined && !given('url') ? path : undefined;
}
