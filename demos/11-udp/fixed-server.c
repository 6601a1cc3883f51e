/*
 * Demo 11, fixed: the same four datagrams, read with a buffer as big as the
 * largest datagram IPv4 can carry, and each one's real size checked: recv
 * with MSG_TRUNC returns the datagram's whole length on Linux, and
 * msg_flags & MSG_TRUNC (POSIX) says a datagram did not fit. A cut datagram
 * is reported and dropped, never used as if it were whole.
 *
 * A datagram is a message: no header is needed to find where it ends. What
 * UDP does not give is delivery: on a real network datagrams can be lost,
 * reordered or duplicated (loopback practically never does it, and this
 * demo does not show it).
 */
#include "udp.h"

#define USAGE "usage: 11-udp-fixed-server [--host ADDR] [--port N] [--full] [--sync]"

#ifdef __linux__
#define REAL_SIZE MSG_TRUNC /* recv returns the datagram's whole length */
#else
#define REAL_SIZE 0 /* msg_flags still says MSG_TRUNC; the size is not known */
#endif
#ifndef BUFFER
#define BUFFER BIG_SIZE /* room for any datagram over IPv4 (build with -DBUFFER=8 to see a cut) */
#endif

static int deliver(struct trace *t, int number, const char *buf, size_t n, int cut);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int tcp_listener, cut, truncated = 0;
    size_t biggest = 0;
    int fd = udp_listen(&a, &tcp_listener);
    int sync = demo_accept_sync(&a, tcp_listener);
    struct trace t = demo_trace(1, &a);
    static char buf[BUFFER];

    demo_sync_wait(sync, SENT_ALL); /* all four wait in the buffer, as in server.c */
    for (int i = 1; i <= DATAGRAMS; i++) {
        size_t n = udp_recv(&t, fd, buf, sizeof buf, REAL_SIZE, &cut);
        truncated += deliver(&t, i, buf, n, cut);
        biggest = n > biggest ? n : biggest;
    }
    demo_fact("truncated", "%d", truncated);
    if (REAL_SIZE)
        demo_fact("biggest_datagram", "%zu", biggest); /* as MSG_TRUNC measured it */
    if (truncated) {
        demo_say("%d datagrams did not fit in %zu bytes: reported and dropped, not used",
                 truncated, sizeof buf);
    } else {
        demo_say("Four recvs, four datagrams, each one whole.");
        demo_say("A %zu-byte buffer holds any datagram; MSG_TRUNC would catch one that "
                 "did not fit.", sizeof buf);
    }
    return truncated ? 1 : 0;
}

/* deliver - a whole datagram is one message; a cut one is reported and dropped
 * (never used as if it were whole). Returns 1 for a cut one. */
static int deliver(struct trace *t, int number, const char *buf, size_t n, int cut)
{
    if (!cut) {
        demo_message(t, buf, n);
        return 0;
    }
    if (REAL_SIZE)
        demo_say("datagram #%d holds %zu bytes, more than our %d: reported, dropped", number,
                 n, BUFFER);
    else
        demo_say("datagram #%d did not fit in our %d bytes: reported, dropped", number, BUFFER);
    return 1;
}
