import { readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Clock } from "../../runtime/clock.js";

/**
 * A clock that moves only when the test sets it, shared with worker
 * processes through a file (its time in ms): work becomes due exactly when
 * the test says, however fast or slow the machine is.
 */
export class FileClock {
  constructor(readonly file: string) {}

  /** Set the time (atomically: a reader never sees half a number). */
  set(ms: number): void {
    writeFileSync(`${this.file}.tmp`, String(ms));
    renameSync(`${this.file}.tmp`, this.file);
  }

  readonly now: Clock = () => new Date(Number(readFileSync(this.file, "utf8")));
}
