/* Demo 1, coalesce (粘包): two sends, one recv. The server. */
#include "demo.h"

#define USAGE "usage: 01-coalesce-server [--host ADDR] [--port N] [--full]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int conn = demo_accept(listener, 1);
    struct trace t = demo_trace(1, &a);
    char buf[1024];

    /* The client sends "hello" and "world" (10 bytes). A server that is a
     * little behind finds both waiting; we make sure of it. */
    demo_wait_queued(conn, DEMO_WORDS_SIZE);

    size_t n = demo_recv(&t, conn, buf, sizeof buf); /* recv(conn, buf, 1024, 0) */

    if (n == DEMO_WORDS_SIZE)
        demo_say("One recv returned the bytes of both sends. TCP is a byte stream: "
                 "send() only copies bytes into the kernel, and nothing marks "
                 "where one send ended.");
    else
        demo_say("recv returned %zu bytes, not the %zu the lesson expects.", n, DEMO_WORDS_SIZE);
    return n == DEMO_WORDS_SIZE ? 0 : 1;
}
