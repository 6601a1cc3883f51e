/*
 * Demo 11, UDP: the client sends four datagrams with four sendto()s, as the
 * course's UDP client does (`s.sendto(b"hello", addr)`): "hello", "world",
 * "helloworld" and the largest datagram IPv4 carries (65507 bytes). Then it
 * tries one byte more, which cannot even be sent. Both servers meet this
 * client: the fix of UDP's lost bytes is on the receiving side.
 */
#include "udp.h"

#include <stdio.h>

#define USAGE "usage: 11-udp-client --port N [--host ADDR] [--full] [--sync]"

static void send_too_big(int fd, const struct sockaddr_in *to, const char *big);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    struct sockaddr_in to = udp_address(&a, a.port);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int sync = demo_connect_sync(&a); /* --sync: TCP, to tell the server we are done */
    struct trace t = demo_trace(1, &a);
    char *big = make_big(BIG_SIZE + 1);

    if (fd < 0)
        demo_die("socket: %s", strerror(errno));
    udp_send(&t, fd, &to, HELLO, strlen(HELLO)); /* s.sendto(b"hello", addr) */
    udp_send(&t, fd, &to, WORLD, strlen(WORLD)); /* s.sendto(b"world", addr) */
    udp_send(&t, fd, &to, TEN, strlen(TEN));     /* 10 bytes, for the server's recv(4) */
    udp_send(&t, fd, &to, big, BIG_SIZE);        /* 65507 bytes: one datagram */
    send_too_big(fd, &to, big);
    demo_sync_post(sync, SENT_ALL);
    free(big);
    return 0;
}

/* send_too_big - one byte more than a UDP datagram can carry: sendto refuses. */
static void send_too_big(int fd, const struct sockaddr_in *to, const char *big)
{
    ssize_t n = sendto(fd, big, BIG_SIZE + 1, 0, (const struct sockaddr *)to, sizeof *to);
    char name[32];

    snprintf(name, sizeof name, "sendto_%d_bytes", BIG_SIZE + 1);
    if (n >= 0)
        demo_die("sendto of %d bytes went through: this system sends larger datagrams",
                 BIG_SIZE + 1);
    demo_fact(name, "%s", errno == EMSGSIZE ? "EMSGSIZE" : strerror(errno));
    demo_say("sendto of %d bytes: %s; nothing was sent (IPv4's most is %d)", BIG_SIZE + 1,
             strerror(errno), BIG_SIZE);
}
