import { problem, type Location, type Problem } from "../problems.js";

const MAX_SUBJECT_LENGTH = 100;

/** MK057 for a subject too long for inboxes; `at` is asked only then. */
export function subjectProblem(subject: string, at: () => Location): Problem | undefined {
  const length = [...subject].length;
  if (length <= MAX_SUBJECT_LENGTH) return undefined;
  return problem("MK057", at(), `subject is ${length} characters; mail clients cut subjects after about ${MAX_SUBJECT_LENGTH}`);
}
