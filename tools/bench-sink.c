/*
 * bench-sink.c - the reader at the end of a pipe: read stdin to EOF and
 * throw it away, 64 KiB at a time (a pipe's default capacity). make bench
 * pipes a command into it to measure the local floor for bulk output.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

#define USAGE                                                              \
    "usage: bench-sink\n"                                                  \
    "Reads stdin to EOF, 64 KiB per read(), and discards it; then prints\n" \
    "the byte count and the number of reads.\n"

int main(int argc, char **argv)
{
    static char buf[CHUNK];
    long long bytes = 0, reads = 0;

    if (argc > 1) {
        int help = strcmp(argv[1], "--help") == 0;
        fputs(USAGE, help ? stdout : stderr);
        return help ? 0 : 2;
    }
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "bench-sink: read: %s\n", strerror(errno));
            return 1;
        }
        if (n == 0)
            break;
        bytes += n;
        reads++;
    }
    printf("bench-sink | bytes %lld | reads %lld\n", bytes, reads);
    return 0;
}
