/*
 * Demo 12, fixed: the same two sends in the same namespace (netns.h), each
 * now one frame: a 4-byte big-endian length, then the bytes, in one send.
 */
#ifdef __linux__
#define _GNU_SOURCE /* unshare, setns, POLLRDHUP: Linux's, declared by glibc only then */
#endif
#include "mtu.h"
#include "netns.h"

#define USAGE "usage: 12-mtu-fixed-client --port N [--host ADDR] [--full] [--sync]"

/* send_once - one connection, the bytes as one frame, then the segment count. */
static void send_once(const struct demo_args *a, int c, const char *buf, size_t n)
{
    int conn = demo_connect(a, c);
    struct trace t = demo_trace(c, a);

    demo_send_frame(&t, conn, buf, n); /* 4-byte length, then the bytes: one send */
    finish_and_count(conn, &t);
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    link_join(&a); /* exits here if the server could make no namespace */
    char *answer = make_answer(), *data = make_data();

    send_once(&a, 1, answer, DEMO_LONG_OUTPUT_SIZE); /* demo 4's long answer */
    send_once(&a, 2, data, SIZE);                    /* demo 6's 1 MiB */
    free(answer);
    free(data);
    return 0;
}
