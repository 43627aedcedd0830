import { publishThroughOwner } from '../db/export.ts';
import type { PubSub, Unsubscribe } from '../infra/pubsub/pubsub.ts';

/**
 * The pub/sub of a command run beside an embedded `woolly start`: the server's bus is in-process, so
 * a message published here (a disabled account's `kill`) is handed to the server over its control
 * socket and published there. Commands only publish; nothing subscribes through it.
 */
export class OwnerRelayPubSub implements PubSub {
  private readonly dataDir: string;

  constructor(dataDir: string) {
    this.dataDir = dataDir;
  }

  publish(channel: string, message: string): Promise<void> {
    return publishThroughOwner(this.dataDir, channel, message);
  }

  subscribe(): Promise<Unsubscribe> {
    return Promise.reject(new Error('a command cannot subscribe to the running server’s bus'));
  }

  async close(): Promise<void> {}
}
