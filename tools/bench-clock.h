/*
 * bench-clock.h - the clocks the bench tools time with: seconds as doubles.
 */
#ifndef BENCH_CLOCK_H
#define BENCH_CLOCK_H

#include <time.h>

/* now_s - monotonic wall-clock seconds (only differences mean anything). */
static inline double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* cpu_s - the CPU time (user + system) of this process alone: a child it
 * forked counts apart. Steadier than the wall clock, which also counts the
 * other processes' turns and the CPUs' wake-ups. */
static inline double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
