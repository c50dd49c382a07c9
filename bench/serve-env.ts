/**
 * SWARMDROP_BENCH_SERVE_ENV: NAME=VALUE pairs (space-separated) for the benches' `swarmdrop serve`
 * alone, not for the reference clients beside it: glibc tunables such as the service unit's
 * MALLOC_MMAP_THRESHOLD_=131072, to measure serve as `swarmdrop service install` runs it.
 */
export function benchServeEnv(): string[] {
  return (process.env.SWARMDROP_BENCH_SERVE_ENV ?? '').split(/\s+/).filter((kv) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(kv))
}
