/* Demo 1, coalesce (粘包): two sends, one recv. The server. */
#include "demo.h"

#define USAGE "usage: 01-coalesce-server [--host ADDR] [--port N] [--full] [--sync|--live]"

static void say_what_happened(size_t first, const struct trace *t);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int conn = demo_accept(listener, 1);
    struct trace t = demo_trace(1, &a);
    char buf[1024];

    /* The client sends "hello" and "world" (10 bytes). A server that is a
     * little behind finds both waiting; we make sure of it (not with --live). */
    demo_wait_queued(conn, DEMO_WORDS_SIZE);

    size_t n = demo_recv(&t, conn, buf, sizeof buf); /* recv(conn, buf, 1024, 0) */

    if (a.live) /* read the rest, to see how the stream was cut this time */
        while (demo_recv(&t, conn, buf, sizeof buf) > 0)
            ;
    say_what_happened(n, &t);
    return a.sync && n != DEMO_WORDS_SIZE ? 1 : 0;
}

/* say_what_happened - which case this run was (the outcome line counts live runs). */
static void say_what_happened(size_t first, const struct trace *t)
{
    if (first >= DEMO_WORDS_SIZE) {
        demo_fact("outcome", "helloworld in one recv");
        if (first > DEMO_WORDS_SIZE)
            demo_say("One recv returned the bytes of both sends, and more.");
        else
            demo_say("One recv returned the bytes of both sends.");
        demo_say("TCP is a byte stream: send() only copies bytes into the kernel, and nothing "
                 "marks where one send ended.");
    } else {
        demo_fact("outcome", "hello, then world");
        demo_say("The first recv returned %zu bytes: only part had arrived when the server "
                 "read.", first);
        if (t->recvs > 2)
            demo_say("Later recvs got the rest.");
        demo_say("Run it again: how the bytes are cut is up to timing.");
    }
}
