export type MessageHandler = (message: string, channel: string) => void;

/** Removes one subscription; calling it again does nothing. */
export type Unsubscribe = () => Promise<void>;

/**
 * Fire-and-forget fan-out between processes (streaming events). A message reaches the handlers
 * subscribed when it is published; nothing is stored, so earlier messages are never delivered.
 */
export interface PubSub {
  publish(channel: string, message: string): Promise<void>;
  /** Resolves once the subscription is live: a message published after that is delivered. */
  subscribe(channel: string, handler: MessageHandler): Promise<Unsubscribe>;
  close(): Promise<void>;
}

export interface PubSubOptions {
  /** Prepended to every channel name on the wire; lets tests and instances share one Redis. */
  keyPrefix?: string;
  /** Called when a handler throws; the other handlers still run. Defaults to console.error. */
  onError?: (error: unknown, channel: string) => void;
}

export function defaultOnError(error: unknown, channel: string): void {
  console.error(`pubsub handler for ${channel} failed:`, error);
}
