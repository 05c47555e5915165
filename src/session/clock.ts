/** Milliseconds from an arbitrary origin; injected so that tests can drive time. */
export type Clock = () => number;

/** The real monotonic clock, for durations and timeouts. */
export const monotonicClock: Clock = () => performance.now();

/** The real wall clock: milliseconds since the Unix epoch, for timestamps that cross machines or restarts. */
export const wallClock: Clock = () => Date.now();
