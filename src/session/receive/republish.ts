import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { messageOf } from '../../errors.js';
import type { MessageTransport } from '../../transport/message-transport.js';

/**
 * Publishes a saved file whole, retained, on `template` with `{topic}` and `{name}` filled in (`--republish`).
 * Returns the topic, or undefined after telling `onError` what the broker said.
 */
export async function republishSaved(
  transport: MessageTransport,
  template: string,
  senderTopic: string,
  path: string,
  onError: (message: string) => void,
): Promise<string | undefined> {
  const topic = template.replaceAll('{topic}', senderTopic).replaceAll('{name}', basename(path));
  try {
    await transport.publish(topic, await readFile(path), { retain: true });
    return topic;
  } catch (error) {
    onError(`could not republish ${basename(path)} on ${topic}: ${messageOf(error)}`);
    return undefined;
  }
}
