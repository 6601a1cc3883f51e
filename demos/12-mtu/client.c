/*
 * Demo 12: the client joins the server's network namespace (netns.h), where
 * lo has MTU 1500, and sends demo 4's 2600-byte answer (conn 1), then demo
 * 6's 1 MiB (conn 2), each with one send(); after each, it asks TCP_INFO how
 * many segments carried the bytes.
 */
#ifdef __linux__
#define _GNU_SOURCE /* unshare, setns, POLLRDHUP: Linux's, declared by glibc only then */
#endif
#include "mtu.h"
#include "netns.h"

#define USAGE "usage: 12-mtu-client --port N [--host ADDR] [--full] [--sync]"

/* send_once - one connection, one send() of all n bytes, then the segment count. */
static void send_once(const struct demo_args *a, int c, const char *buf, size_t n)
{
    int conn = demo_connect(a, c);
    struct trace t = demo_trace(c, a);

    demo_send(&t, conn, buf, n); /* client.send(data): one call */
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
