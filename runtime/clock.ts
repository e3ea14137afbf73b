/** Where the runtime reads the time for scheduling: the system's, or a test's that it moves forward. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
