import { once } from 'node:events';
import { Command } from 'commander';
import type { RunContext } from '../context.js';
import { integerIn } from '../options/parse-values.js';

/** `mqimg broker [--port] [--ws-port]` */
export function brokerCommand(context: RunContext): Command {
  return new Command('broker')
    .description('run an embedded MQTT 3.1.1 broker (aedes, in memory) for trying mqimg on one machine')
    .option('-p, --port <port>', 'TCP port to listen on', integerIn(0, 65_535), 1883)
    .option('-h, --host <address>', 'address to listen on', '127.0.0.1')
    .option(
      '--ws-port <port>',
      'also serve MQTT over WebSocket on this port, for browsers and mqimg display (0: a free port)',
      integerIn(0, 65_535),
    )
    .action(async (flags: { port: number; host: string; wsPort?: number }) => {
      const { startEmbeddedBroker } = await import('../../broker/embedded-broker.js');
      const broker = await startEmbeddedBroker({ port: flags.port, host: flags.host, wsPort: flags.wsPort });
      const ws = broker.wsUrl ? ` and ${broker.wsUrl} (WebSocket)` : '';
      context.output.result(`broker listening on ${broker.url}${ws}; Ctrl-C stops it`);
      if (!context.signal.aborted) await once(context.signal, 'abort');
      await broker.close();
    });
}
