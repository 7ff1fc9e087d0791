// Errors of the service that carry a stable code (logged, returned by the API, printed by the CLI,
// matched in tests) and a message written for the operator who reads it.

export class CodedError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodedError';
    this.code = code;
  }
}

export function errorCode(err: unknown): string {
  return err instanceof CodedError ? err.code : 'INTERNAL';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
