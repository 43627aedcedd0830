/** A role could not start for a reason the operator can fix (port in use, bad address, …). */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}
