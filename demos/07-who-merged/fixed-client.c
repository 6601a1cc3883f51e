/* Demo 7, fixed: the same five words as frames, with TCP_NODELAY on. */
#include "demo.h"
#include "words.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#define USAGE "usage: 07-who-merged-fixed-client --port N [--host ADDR] [--full]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace(1, &a);
    int on = 1;

    /* No Nagle: each frame leaves at once. The frames, not the timing, mark the messages. */
    if (setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) < 0)
        demo_die("setsockopt TCP_NODELAY: %s", strerror(errno));
    demo_say("conn 1: TCP_NODELAY on (Nagle off)");
    for (int i = 0; i < WORDS; i++)
        demo_send_frame(&t, conn, words[i], strlen(words[i])); /* length, then the word */
    return 0;
}
