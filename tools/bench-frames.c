/*
 * bench-frames.c - what reading frames costs, next to reading raw bytes.
 *
 *   stream: a child process writes N frames of 16 bytes (a 4-byte header and
 *           a 12-byte body) into a socketpair as fast as it can; we read them
 *           with frame_reader (one read() per 64 KiB, frames cut out of the
 *           buffer), with recv_frame (two read()s per frame: header, body),
 *           or raw (64 KiB read()s, the 16-byte records counted by hand).
 *   pingpong: one message back and forth over TCP on 127.0.0.1, N times;
 *           framed (send_frame, and recv_frame or a frame_reader to read
 *           it) or raw (1 byte each way). Prints the median round trip.
 *
 * Every reader touches the first byte of every body and prints their sum,
 * so no variant can skip work the others do.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "frame.h"
#include "net.h"
#include "bench-clock.h"

#define FRAME_BYTES 16
#define BODY_BYTES (FRAME_BYTES - FRAME_HEADER_SIZE)
#define BATCH_FRAMES 4096 /* the writer's write(): 64 KiB of frames */
#define RAW_CHUNK (64 * 1024)
#define MAX_BODY 4096     /* the readers' limit; every body here is 12 bytes */
#define WARM_UP 1000      /* ping-pong round trips before the timed ones */

#define USAGE                                                                     \
    "usage: bench-frames stream frame_reader|recv_frame|raw [--count N]\n"         \
    "       bench-frames pingpong raw|recv_frame|frame_reader [--count N]\n"       \
    "stream: a child writes N 16-byte frames (4-byte header, 12-byte body) into\n" \
    "a socketpair; we read them the named way. Prints frames, seconds, ns per\n"   \
    "frame, and the reader's own CPU time (seconds, ns per frame). pingpong: N\n"  \
    "round trips over TCP on 127.0.0.1, a frame (send_frame)\n"                    \
    "or 1 raw byte each way; prints the median (p50) and p99 round trip in ns.\n"   \
    "Defaults: 10000000 frames, 50000 round trips.\n"

/* ------------------------------------------------------------------ stream */

/* write_frames - the child: count frames of 16 bytes, 64 KiB per write(). */
static int write_frames(int fd, long count)
{
    static unsigned char batch[BATCH_FRAMES * FRAME_BYTES];

    for (int i = 0; i < BATCH_FRAMES; i++) {
        unsigned char *f = batch + i * FRAME_BYTES;
        frame_put_length(f, BODY_BYTES);
        memset(f + FRAME_HEADER_SIZE, i & 0xff, BODY_BYTES);
    }
    while (count > 0) {
        long n = count < BATCH_FRAMES ? count : BATCH_FRAMES;

        if (write_all(fd, batch, (size_t)n * FRAME_BYTES) < 0)
            return 1;
        count -= n;
    }
    return 0;
}

/* read_with_frame_reader - frames cut out of 64 KiB reads. Returns the
 * number of frames (and their sum in *sum), or -1. */
static long read_with_frame_reader(int fd, unsigned long *sum)
{
    struct frame_reader r;
    const unsigned char *body;
    uint32_t len;
    long frames = 0;
    ssize_t n;
    int st;

    frame_reader_init(&r, MAX_BODY);
    while ((n = frame_reader_fill(&r, fd)) > 0) {
        while ((st = frame_reader_next(&r, &body, &len)) == FRAME_OK) {
            *sum += body[0];
            frames++;
        }
        if (st != FRAME_AGAIN)
            break;
    }
    if (n != 0 || frame_reader_at_eof(&r) != FRAME_EOF)
        frames = -1;
    frame_reader_free(&r);
    return frames;
}

/* read_with_recv_frame - one recv_frame per frame: a read() for the header,
 * another for the body. */
static long read_with_recv_frame(int fd, unsigned long *sum)
{
    unsigned char body[MAX_BODY];
    uint32_t len;
    long frames = 0;
    int st;

    while ((st = recv_frame(fd, body, sizeof body, &len)) == FRAME_OK) {
        *sum += body[0];
        frames++;
    }
    return st == FRAME_EOF ? frames : -1;
}

/* read_raw - the floor: 64 KiB reads; a record ends every 16 bytes, even
 * across reads (the stream has no other boundaries). */
static long read_raw(int fd, unsigned long *sum)
{
    static unsigned char buf[RAW_CHUNK];
    long frames = 0;
    size_t at = 0; /* offset inside the current record */
    ssize_t n;

    while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        for (size_t i = 0; n > 0 && i < (size_t)n;) {
            if (at == 0 && (size_t)n - i >= FRAME_BYTES) { /* a whole record */
                *sum += buf[i + FRAME_HEADER_SIZE];
                i += FRAME_BYTES;
                frames++;
                continue;
            }
            if (at == FRAME_HEADER_SIZE) /* a record cut by the read: byte by byte */
                *sum += buf[i];
            i++;
            if (++at == FRAME_BYTES) {
                at = 0;
                frames++;
            }
        }
    }
    return n == 0 && at == 0 ? frames : -1;
}

/* run_stream - fork the writer, read everything the named way, print. */
static int run_stream(const char *how, long count)
{
    long (*reader)(int, unsigned long *) =
        strcmp(how, "frame_reader") == 0 ? read_with_frame_reader
        : strcmp(how, "recv_frame") == 0 ? read_with_recv_frame
        : strcmp(how, "raw") == 0        ? read_raw : NULL;
    unsigned long sum = 0;
    int sv[2], status;

    if (reader == NULL || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        fprintf(stderr, "bench-frames: %s\n", reader ? strerror(errno) : "unknown reader");
        return 2;
    }
    double start = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        _exit(write_frames(sv[1], count));
    }
    close(sv[1]);
    double cpu_start = cpu_s();
    long frames = pid < 0 ? -1 : reader(sv[0], &sum);
    double seconds = now_s() - start, cpu = cpu_s() - cpu_start;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || status != 0 || frames != count) {
        fprintf(stderr, "bench-frames: read %ld of %ld frames\n", frames, count);
        return 1;
    }
    printf("bench-frames | stream %s | frames %ld | seconds %.6f | ns_per_frame %.2f | "
           "cpu_seconds %.6f | cpu_ns_per_frame %.2f | sum %lu\n", how, frames, seconds,
           seconds * 1e9 / (double)frames, cpu, cpu * 1e9 / (double)frames, sum);
    return 0;
}

/* ---------------------------------------------------------------- pingpong */

enum way { RAW, RECV_FRAME, FRAME_READER, NO_WAY };

static enum way parse_way(const char *how)
{
    return strcmp(how, "raw") == 0            ? RAW
           : strcmp(how, "recv_frame") == 0   ? RECV_FRAME
           : strcmp(how, "frame_reader") == 0 ? FRAME_READER : NO_WAY;
}

/* put - send one message: 1 raw byte, or a frame with a 1-byte body in one sendmsg. */
static int put(int fd, enum way way)
{
    unsigned char byte = 'x';

    return way == RAW ? write_all(fd, &byte, 1) : send_frame(fd, &byte, 1);
}

/* get - receive one message the named way. Returns 0, or -1 (EOF or an error). */
static int get(int fd, enum way way, struct frame_reader *r)
{
    unsigned char byte;
    const unsigned char *body;
    uint32_t len;
    int st;

    if (way == RAW)
        return read_exact(fd, &byte, 1) == 1 ? 0 : -1;
    if (way == RECV_FRAME)
        return recv_frame(fd, &byte, 1, &len) == FRAME_OK ? 0 : -1;
    while ((st = frame_reader_next(r, &body, &len)) == FRAME_AGAIN) {
        if (frame_reader_fill(r, fd) <= 0)
            return -1;
    }
    return st == FRAME_OK ? 0 : -1;
}

/* echo_loop - the child: answer every message with one of the same kind. */
static int echo_loop(int port, enum way way)
{
    char err[NET_ERR_LEN];
    struct frame_reader r;
    int fd = net_connect(err, "127.0.0.1", port);

    if (fd < 0)
        return 1;
    frame_reader_init(&r, MAX_BODY);
    while (get(fd, way, &r) == 0 && put(fd, way) == 0)
        continue;
    frame_reader_free(&r);
    close(fd);
    return 0;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* time_round_trips - count timed round trips after WARM_UP untimed ones;
 * each one's seconds into rtt[]. Returns 0, or -1. */
static int time_round_trips(int fd, enum way way, long count, double *rtt)
{
    struct frame_reader r;
    int rc = 0;

    frame_reader_init(&r, MAX_BODY);
    for (long i = -WARM_UP; i < count && rc == 0; i++) {
        double t0 = now_s();
        rc = put(fd, way) == 0 ? get(fd, way, &r) : -1;
        if (i >= 0)
            rtt[i] = now_s() - t0;
    }
    frame_reader_free(&r);
    return rc;
}

/* run_pingpong - fork the echoing child, time the round trips, print. */
static int run_pingpong(const char *how, long count)
{
    char err[NET_ERR_LEN] = "", name[NET_ADDR_LEN];
    double *rtt = malloc((size_t)count * sizeof *rtt);
    enum way way = parse_way(how);
    int lfd, fd = -1, status, rc;

    if (way == NO_WAY) {
        fprintf(stderr, "bench-frames: unknown way '%s'\n%s", how, USAGE);
        return 2;
    }
    if (rtt == NULL || (lfd = net_listen(err, "127.0.0.1", 0, 1)) < 0 ||
        net_local_name(err, lfd, name, sizeof name, NULL) < 0) {
        fprintf(stderr, "bench-frames: %s\n", rtt ? err : "out of memory");
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(lfd);
        _exit(echo_loop(atoi(strrchr(name, ':') + 1), way));
    }
    if (pid > 0)
        fd = net_accept(err, lfd, NULL, 0);
    rc = fd < 0 ? -1 : time_round_trips(fd, way, count, rtt);
    close(fd);  /* the child reads EOF and exits */
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || status != 0 || rc != 0) {
        fprintf(stderr, "bench-frames: ping-pong failed %s\n", err);
        return 1;
    }
    qsort(rtt, (size_t)count, sizeof *rtt, compare_double);
    printf("bench-frames | pingpong %s | round_trips %ld | p50_ns %.0f | p99_ns %.0f\n", how,
           count, rtt[count / 2] * 1e9, rtt[count * 99 / 100] * 1e9);
    free(rtt);
    return 0;
}

int main(int argc, char **argv)
{
    long count = -1;

    if (argc > 1 && strcmp(argv[1], "--help") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (argc == 5 && strcmp(argv[3], "--count") == 0 &&
        parse_long(argv[4], 1, 1000000000, &count) < 0)
        argc = 0; /* a bad count: the usage below */
    if ((argc != 3 && argc != 5) || (argc == 5 && strcmp(argv[3], "--count") != 0)) {
        fprintf(stderr, "bench-frames: bad arguments\n%s", USAGE);
        return 2;
    }
    if (strcmp(argv[1], "stream") == 0)
        return run_stream(argv[2], count > 0 ? count : 10000000);
    if (strcmp(argv[1], "pingpong") == 0)
        return run_pingpong(argv[2], count > 0 ? count : 50000);
    fprintf(stderr, "bench-frames: unknown mode '%s'\n%s", argv[1], USAGE);
    return 2;
}
