/*
 * args.h - numbers from the command line, checked. Each returns 0 and
 * stores the value, or returns -1 and leaves *out alone: the program says
 * what was wrong (the library never prints).
 */
#ifndef ARGS_H
#define ARGS_H

#include <stdint.h>

/* parse_long - a whole decimal number in [min, max], nothing else around it. */
int parse_long(const char *text, long min, long max, long *out);

/* parse_ms - a positive number of seconds ("2", "0.5") at most max_s, as
 * milliseconds (at least 1). */
int parse_ms(const char *text, double max_s, int64_t *out);

#endif
