/* rsh-server-log.c - one line per event on stderr (see rsh-server.h). */
#include "rsh-server.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int quiet;

void log_set_quiet(int on)
{
    quiet = on;
}

/* log_line - "rsh-server: TEXT\n" on stderr in one write(), so the line is
 * never cut in two by another program writing to the same terminal or pipe. */
static void log_line(const char *fmt, va_list ap)
{
    char line[512];
    int n = snprintf(line, sizeof line, "rsh-server: ");

    n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2; /* cut a very long line short */
    line[n++] = '\n';
    (void)write_all(STDERR_FILENO, line, (size_t)n);
}

/* log_info - one short line on stderr, unless --quiet. */
void log_info(const char *fmt, ...)
{
    va_list ap;

    if (quiet)
        return;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

/* log_problem - one short line on stderr, always. */
void log_problem(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}
