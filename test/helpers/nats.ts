import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';
import { findBinary, toolRequired, usualPaths } from './required-tool.js';

/** Where nats-server is, or undefined when it is not installed. */
export function natsServerPath(): string | undefined {
  return findBinary(usualPaths('nats-server'), ['--version']);
}

/**
 * True when the NATS suite must run: always in CI (`CI=true`: a missing binary is then a failure, not a skip), and
 * locally when nats-server is installed.
 */
export function natsRequired(): boolean {
  return toolRequired(() => natsServerPath() !== undefined);
}

/**
 * Starts a NATS server with its MQTT listener (MQTT 3.1.1 only, QoS 0 and 1, backed by JetStream) on free ports,
 * with its own JetStream folder. NATS answers an MQTT 5 CONNECT by closing the connection: mqimg falls back.
 */
export async function startNats(): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const binary = natsServerPath();
  if (!binary) throw new Error('nats-server is not installed (apt-get install nats-server)');
  const [clientPort, mqttPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'mqimg-nats-'));
  const conf = join(dir, 'nats.conf');
  writeFileSync(
    conf,
    [
      `listen: 127.0.0.1:${clientPort}`,
      `server_name: mqimg_${mqttPort}`,
      `jetstream { store_dir: "${join(dir, 'js')}" }`,
      `mqtt { listen: 127.0.0.1:${mqttPort} }`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(binary, ['-c', conf], { stdio: 'ignore' });
  await waitForPort(mqttPort);
  return {
    url: `mqtt://127.0.0.1:${mqttPort}`,
    port: mqttPort,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    },
  };
}
