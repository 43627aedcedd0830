import { createInterface, type Interface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';

/** The input ended (Ctrl-D, or a pipe with too few answers) before a question was answered. */
export class InputEndedError extends Error {
  constructor() {
    super('input ended before every question was answered');
    this.name = 'InputEndedError';
  }
}

/**
 * Line-based questions for interactive commands (`woolly setup`). Works on a terminal and on piped
 * input alike, so the wizard can be scripted and tested.
 */
export class Prompter {
  private readonly rl: Interface;
  private readonly output: Writable;
  private readonly lines: AsyncIterator<string>;
  constructor(input: Readable, output: Writable) {
    this.output = output;
    this.rl = createInterface({ input, output, terminal: false });
    this.lines = this.rl[Symbol.asyncIterator]();
  }

  say(text: string): void {
    this.output.write(`${text}\n`);
  }

  private async line(): Promise<string> {
    const next = await this.lines.next();
    if (next.done) throw new InputEndedError();
    return next.value.trim();
  }

  /** Asks until `validate` accepts (it returns an error message, or undefined when the answer is fine). */
  async ask(
    question: string,
    options: { default?: string; validate?: (answer: string) => string | undefined } = {},
  ): Promise<string> {
    for (;;) {
      this.output.write(
        `${question}${options.default !== undefined && options.default !== '' ? ` [${options.default}]` : ''}: `,
      );
      const raw = await this.line();
      const answer = raw === '' ? (options.default ?? '') : raw;
      const problem = options.validate?.(answer);
      if (problem === undefined) return answer;
      this.say(`  ${problem}`);
    }
  }

  async confirm(question: string, fallback: boolean): Promise<boolean> {
    const answer = await this.ask(`${question} (${fallback ? 'Y/n' : 'y/N'})`, {
      validate: (a) => (a === '' || /^(y|yes|n|no)$/i.test(a) ? undefined : 'answer y or n'),
    });
    return answer === '' ? fallback : /^y/i.test(answer);
  }

  async choose<T extends string>(question: string, choices: readonly T[], fallback: T): Promise<T> {
    const answer = await this.ask(`${question} (${choices.join('/')})`, {
      default: fallback,
      validate: (a) =>
        (choices as readonly string[]).includes(a) ? undefined : `choose one of ${choices.join(', ')}`,
    });
    return answer as T;
  }

  close(): void {
    this.rl.close();
  }
}
