/** A configuration problem an operator must fix; the CLI prints it and exits with status 1. */
export class ConfigError extends Error {
  readonly variable: string | undefined;
  constructor(message: string, variable?: string) {
    super(message);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}
