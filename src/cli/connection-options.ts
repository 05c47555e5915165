import { type Command, Option } from 'commander';
import type { ConnectOptions } from '../transport/mqtt-transport.js';

/** Default broker URL when neither --url nor MQIMG_URL is given. */
export const DEFAULT_URL = 'mqtt://localhost:1883';

/** Options every command that talks to a broker shares, declared once here. */
export interface ConnectionFlags {
  url: string;
  username?: string;
  password?: string;
  clientId?: string;
  mqttVersion: '5' | '3.1.1' | 'auto';
}

/** Adds the shared connection options to `command`. */
export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--url <url>', 'broker URL: mqtt://, mqtts://, ws:// or wss://')
        .env('MQIMG_URL')
        .default(DEFAULT_URL),
    )
    .addOption(new Option('--username <name>', 'user name for the broker').env('MQIMG_USERNAME'))
    .addOption(
      new Option(
        '--password <password>',
        'password for the broker (prefer MQIMG_PASSWORD: it stays out of the process list)',
      ).env('MQIMG_PASSWORD'),
    )
    .addOption(new Option('--client-id <id>', 'MQTT client id (default: mqimg-<random>)'))
    .addOption(
      new Option('--mqtt-version <version>', 'MQTT protocol version; auto tries 5, then 3.1.1')
        .choices(['5', '3.1.1', 'auto'])
        .default('auto'),
    );
}

/** Turns parsed connection flags into transport options. */
export function toConnectOptions(flags: ConnectionFlags): ConnectOptions {
  return {
    url: flags.url,
    mqttVersion: flags.mqttVersion === 'auto' ? 'auto' : flags.mqttVersion === '5' ? 5 : 4,
    ...(flags.username !== undefined ? { username: flags.username } : {}),
    ...(flags.password !== undefined ? { password: flags.password } : {}),
    ...(flags.clientId !== undefined ? { clientId: flags.clientId } : {}),
  };
}
