/** Milliseconds from an arbitrary origin; injected so that tests can drive time. */
export type Clock = () => number;

/** The real monotonic clock. */
export const monotonicClock: Clock = () => performance.now();
