import {
  defaultOnError,
  type MessageHandler,
  type PubSub,
  type PubSubOptions,
  type Unsubscribe,
} from './pubsub.ts';

interface Subscription {
  handler: MessageHandler;
}

/** In-process pub/sub for the embedded shape: one process, so a map of handlers is enough. */
export class MemoryPubSub implements PubSub {
  private readonly channels = new Map<string, Set<Subscription>>();
  private readonly onError: (error: unknown, channel: string) => void;
  private closed = false;

  constructor(opts: PubSubOptions = {}) {
    this.onError = opts.onError ?? defaultOnError;
  }

  async publish(channel: string, message: string): Promise<void> {
    if (this.closed) throw new Error('pubsub is closed');
    const subs = this.channels.get(channel);
    if (subs === undefined) return;
    // Deliver after publish returns, like Redis, so a handler never runs inside its publisher's call.
    for (const sub of [...subs]) {
      queueMicrotask(() => {
        if (!subs.has(sub)) return;
        try {
          sub.handler(message, channel);
        } catch (error) {
          this.onError(error, channel);
        }
      });
    }
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe> {
    if (this.closed) throw new Error('pubsub is closed');
    let subs = this.channels.get(channel);
    if (subs === undefined) {
      subs = new Set();
      this.channels.set(channel, subs);
    }
    const sub: Subscription = { handler };
    subs.add(sub);
    return async () => {
      const current = this.channels.get(channel);
      if (current === undefined || !current.delete(sub)) return;
      if (current.size === 0) this.channels.delete(channel);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const subs of this.channels.values()) subs.clear(); // drops deliveries already queued
    this.channels.clear();
  }
}
