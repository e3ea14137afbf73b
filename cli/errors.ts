import { PROBLEM_CODES } from "./problems.js";

/**
 * A failure the user can fix that has no place in a repository file (an
 * unknown campaign on the command line, an unreadable --data file). Commands
 * print it as one line with its code, never with a stack trace.
 */
export class MkError extends Error {
  constructor(
    readonly code: keyof typeof PROBLEM_CODES,
    message: string,
  ) {
    super(message);
    this.name = "MkError";
  }
}
