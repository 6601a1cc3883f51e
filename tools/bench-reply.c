/*
 * bench-reply.c - what two send()s per answer cost, next to one sendmsg().
 *
 * A request/answer loop over TCP on 127.0.0.1 with Nagle's algorithm on (the
 * default), shaped like the course's fixed remote shell: the client sends a
 * request ("echo x" in a frame) and waits for its answer before sending the
 * next; a child process answers each with "x\n" in a frame. With --two-sends
 * the child sends the 4-byte header with one send() and the body with
 * another, as the course's fix does; by default it sends both with one
 * sendmsg() (send_frame). No command runs: only the network's share is left.
 *
 * With two sends the body waits in the child's kernel (Nagle: a small
 * segment may not leave while an earlier one is unacknowledged) until the
 * client ACKs the header - and the client, which has nothing to send until
 * the whole answer is there, delays that ACK (tens of ms on Linux).
 */
#include <errno.h>
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

#define REQUEST "echo x"
#define ANSWER "x\n"

#define USAGE                                                                      \
    "usage: bench-reply [--two-sends] [--count N]\n"                                \
    "N requests (default 100) over one TCP connection on 127.0.0.1, each sent\n"     \
    "after the previous answer; a child answers each with a frame holding \"x\\n\":\n" \
    "one sendmsg() of header and body (default), or --two-sends: send() of the\n"    \
    "header, then send() of the body, as the course's fix does. Nagle stays on.\n"   \
    "Prints the count and the seconds.\n"

/* answer - one answer: in one sendmsg, or header and body in two send()s. */
static int answer(int fd, int two_sends)
{
    unsigned char header[FRAME_HEADER_SIZE];

    if (!two_sends)
        return send_frame(fd, ANSWER, strlen(ANSWER)) == FRAME_OK ? 0 : -1;
    frame_put_length(header, (uint32_t)strlen(ANSWER));
    if (send(fd, header, sizeof header, NET_SEND_FLAGS) != (ssize_t)sizeof header)
        return -1;
    return send(fd, ANSWER, strlen(ANSWER), NET_SEND_FLAGS) == (ssize_t)strlen(ANSWER) ? 0 : -1;
}

/* serve - the child: answer every request until the client closes. */
static int serve(int port, int two_sends)
{
    char err[NET_ERR_LEN], buf[64];
    uint32_t len;
    int fd = net_connect(err, "127.0.0.1", port), st;

    if (fd < 0) {
        fprintf(stderr, "bench-reply: %s\n", err);
        return 1;
    }
    while ((st = recv_frame(fd, buf, sizeof buf, &len)) == FRAME_OK) {
        if (answer(fd, two_sends) < 0)
            return 1;
    }
    close(fd);
    return st == FRAME_EOF ? 0 : 1;
}

/* ask - count requests, each after the previous answer. Returns 0, or -1. */
static int ask(int fd, long count)
{
    char buf[64];
    uint32_t len;

    for (long i = 0; i < count; i++) {
        if (send_frame(fd, REQUEST, strlen(REQUEST)) != FRAME_OK ||
            recv_frame(fd, buf, sizeof buf, &len) != FRAME_OK || len != strlen(ANSWER) ||
            memcmp(buf, ANSWER, len) != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char err[NET_ERR_LEN] = "", name[NET_ADDR_LEN];
    long count = 100;
    int two_sends = 0, lfd, fd = -1, status, rc = -1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (strcmp(argv[i], "--two-sends") == 0) {
            two_sends = 1;
        } else if (!(strcmp(argv[i], "--count") == 0 && i + 1 < argc &&
                     parse_long(argv[++i], 1, 100000000, &count) == 0)) {
            fprintf(stderr, "bench-reply: bad argument '%s'\n%s", argv[i], USAGE);
            return 2;
        }
    }
    if ((lfd = net_listen(err, "127.0.0.1", 0, 1)) < 0 ||
        net_local_name(err, lfd, name, sizeof name, NULL) < 0) {
        fprintf(stderr, "bench-reply: %s\n", err);
        return 1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(lfd);
        _exit(serve(atoi(strrchr(name, ':') + 1), two_sends));
    }
    if (pid > 0 && (fd = net_accept(err, lfd, NULL, 0)) >= 0) {
        double start = now_s();
        rc = ask(fd, count);
        if (rc == 0)
            printf("bench-reply | %s | count %ld | seconds %.6f\n",
                   two_sends ? "two sends" : "one sendmsg", count, now_s() - start);
        close(fd);
    }
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || status != 0 || rc != 0) {
        fprintf(stderr, "bench-reply: the exchange failed %s\n", err);
        return 1;
    }
    return 0;
}
