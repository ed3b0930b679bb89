package mobyc.runtime;

/**
 * Per-run values a program may read: the random seed and the step counter that key the counter-based
 * generator, so that random ops draw new numbers each step and the same numbers on every backend.
 */
public record RunContext(long seed, long step) {}
