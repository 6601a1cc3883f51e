/* args.c - numbers from the command line, checked (see args.h). */
#include "args.h"

#include <errno.h>
#include <stdlib.h>

int parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int parse_ms(const char *text, double max_s, int64_t *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v > 0) || v > max_s)
        return -1;
    *out = v * 1000 < 1 ? 1 : (int64_t)(v * 1000);
    return 0;
}
