/*
 * bench-tcp.c - the floor for bulk data through a TCP socket on loopback:
 * a child process connects to us and writes N bytes of zeros; we read them
 * to EOF and throw them away. No framing, no pipes, no shell: only what the
 * kernel costs to move bytes from one process to another through TCP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "frame.h"
#include "net.h"
#include "bench-clock.h"

#define USAGE                                                                    \
    "usage: bench-tcp [--bytes N] [--chunk N]\n"                                 \
    "A child process sends N bytes (default 1 GiB) over one TCP connection on\n" \
    "127.0.0.1, in write()s of --chunk bytes (default 262144); this process\n"    \
    "reads them to EOF with reads of the same size and discards them.\n"         \
    "Prints the bytes, the seconds and the throughput.\n"

/* send_zeros - the child: connect to port, write total bytes. Returns an exit status. */
static int send_zeros(int port, long long total, size_t chunk)
{
    char err[NET_ERR_LEN];
    char *buf = calloc(1, chunk);
    int fd = net_connect(err, "127.0.0.1", port);

    if (fd < 0 || buf == NULL) {
        fprintf(stderr, "bench-tcp: sender: %s\n", fd < 0 ? err : "out of memory");
        return 1;
    }
    while (total > 0) {
        size_t n = total < (long long)chunk ? (size_t)total : chunk;

        if (write_all(fd, buf, n) < 0) {
            fprintf(stderr, "bench-tcp: sender: write: %s\n", strerror(errno));
            return 1;
        }
        total -= (long long)n;
    }
    close(fd);
    free(buf);
    return 0;
}

/* receive_all - read fd to EOF; the byte count, or -1 with errno. */
static long long receive_all(int fd, size_t chunk)
{
    char *buf = malloc(chunk);
    long long got = 0;

    if (buf == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (;;) {
        ssize_t n = read(fd, buf, chunk);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            return n < 0 ? -1 : got;
        }
        got += n;
    }
}

/* parse_args - --bytes and --chunk. Returns 0, 1 after --help, or -1. */
static int parse_args(int argc, char **argv, long long *total, size_t *chunk)
{
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        long v;

        if (strcmp(argv[i], "--help") == 0) {
            fputs(USAGE, stdout);
            return 1;
        } else if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc &&
                   parse_long(argv[i + 1], 1, 1L << 40, &v) == 0) {
            *total = v;
        } else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc &&
                   parse_long(argv[i + 1], 1, 64L << 20, &v) == 0) {
            *chunk = (size_t)v;
        } else {
            fprintf(stderr, "bench-tcp: bad argument '%s'\n%s", argv[i], USAGE);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    long long total = 1LL << 30, got;
    size_t chunk = 256 * 1024; /* larger than 64 KiB: fewer wake-ups, about twice the rate here */
    char err[NET_ERR_LEN], name[NET_ADDR_LEN];
    int lfd, fd, status, rc = parse_args(argc, argv, &total, &chunk);

    if (rc != 0)
        return rc > 0 ? 0 : 2;
    /* Listen before the fork: the child's connect cannot come too early. */
    if ((lfd = net_listen(err, "127.0.0.1", 0, 1)) < 0 ||
        net_local_name(err, lfd, name, sizeof name, NULL) < 0) {
        fprintf(stderr, "bench-tcp: %s\n", err);
        return 1;
    }
    int port = atoi(strrchr(name, ':') + 1);
    double start = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        close(lfd);
        _exit(send_zeros(port, total, chunk));
    }
    if (pid < 0 || (fd = net_accept(err, lfd, NULL, 0)) < 0) {
        fprintf(stderr, "bench-tcp: %s\n", pid < 0 ? strerror(errno) : err);
        return 1;
    }
    got = receive_all(fd, chunk);
    double seconds = now_s() - start;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
        got != total) {
        fprintf(stderr, "bench-tcp: received %lld of %lld bytes (%s)\n", got, total,
                got < 0 ? strerror(errno) : "the sender failed");
        return 1;
    }
    printf("bench-tcp | bytes %lld | seconds %.6f | MB_per_s %.1f\n", total, seconds,
           (double)total / seconds / 1e6);
    return 0;
}
