/*
 * Demo 3, delayed: the client pauses between its two sends.
 * conn 1: the server reads while the client pauses -> "hello", then "world".
 * conn 2: the server reads only after both sends   -> "helloworld".
 * A pause separates two sends only if the reader happens to read in between.
 */
#include "demo.h"

#include <string.h>

#define USAGE "usage: 03-delayed-server [--host ADDR] [--port N] [--full]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int sync = demo_accept_sync(listener);
    char buf[1024];

    /* conn 1: a reader that keeps up */
    int conn = demo_accept(listener, 1);
    struct trace t1 = demo_trace(1, &a);
    size_t first = demo_recv(&t1, conn, buf, sizeof buf);
    demo_sync_post(sync, "read the first send");
    size_t second = demo_recv(&t1, conn, buf, sizeof buf);

    /* conn 2: a reader slower than the pause */
    conn = demo_accept(listener, 2);
    struct trace t2 = demo_trace(2, &a);
    demo_wait_queued(conn, DEMO_WORDS_SIZE);
    size_t slow = demo_recv(&t2, conn, buf, sizeof buf);

    int ok = first == strlen(DEMO_HELLO) && second == strlen(DEMO_WORLD) &&
             slow == DEMO_WORDS_SIZE;
    if (ok)
        demo_say("conn 1 read during the pause and got two recvs; conn 2 read after "
                 "it and got one. The pause did not mark a boundary: when the "
                 "reader reads decides what one recv returns.");
    else
        demo_say("recvs returned %zu, %zu and %zu bytes, not %zu, %zu and %zu.", first,
                 second, slow, strlen(DEMO_HELLO), strlen(DEMO_WORLD), DEMO_WORDS_SIZE);
    return ok ? 0 : 1;
}
