import { Command } from 'commander';
import type { RunContext } from '../context.js';
import {
  addConnectionOptions,
  type ConnectionFlags,
  toConnectOptions,
} from '../options/connection-options.js';
import { plural, quietOutput } from '../output/output.js';

interface ClearFlags extends ConnectionFlags {
  topic: string;
  json?: boolean;
  quiet?: boolean;
}

/** `mqimg clear --topic <filter>`: removes retained images (`send --retain`) from the broker. */
export function clearCommand(context: RunContext): Command {
  const command = new Command('clear')
    .description(
      'remove the retained images (send --retain) on a topic from the broker, like mosquitto_sub --remove-retained',
    )
    .requiredOption(
      '-t, --topic <filter>',
      'sender topic, or a filter of them (display/+, #), whose retained images to remove',
    )
    .option('--json', 'print one JSON object per removed image')
    .option(
      '-q, --quiet',
      "print nothing but errors (and --json lines); -q followed by a number, mosquitto's QoS, is refused",
    );
  addConnectionOptions(command);
  return command.action(async (flags: ClearFlags) => {
    const output = flags.quiet ? quietOutput(context.output) : context.output;
    const { MqttTransport } = await import('../../transport/mqtt-transport.js');
    const { clearRetained } = await import('../../session/send/clear-retained.js');
    const transport = await MqttTransport.connect(toConnectOptions(flags, output));
    try {
      const cleared = await clearRetained(transport, flags.topic);
      for (const c of cleared) {
        if (flags.json) output.json({ event: 'cleared', topic: c.topic, id: c.id, messages: c.messages });
        else
          output.result(
            `removed the retained image ${c.id} on ${c.topic} (${plural(c.messages, 'retained message')})`,
          );
      }
      if (cleared.length === 0 && !flags.json) output.info(`no retained mqimg image on ${flags.topic}`);
    } finally {
      await transport.close();
    }
  });
}
