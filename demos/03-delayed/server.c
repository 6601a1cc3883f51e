/*
 * Demo 3, delayed: the client pauses between its two sends.
 * conn 1: the server reads while the client pauses -> "hello", then "world".
 * conn 2: the server reads only after both sends   -> "helloworld".
 * A pause separates two sends only if the reader happens to read in between.
 */
#include "demo.h"

#include <string.h>

#define USAGE "usage: 03-delayed-server [--host ADDR] [--port N] [--full] [--sync|--live]"

static void say_what_happened(size_t first, size_t slow);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int sync = demo_accept_sync(&a, listener);
    char buf[1024];

    /* conn 1: a reader that keeps up */
    int conn = demo_accept(listener, 1);
    struct trace t1 = demo_trace(1, &a);
    size_t first = demo_recv(&t1, conn, buf, sizeof buf);
    demo_sync_post(sync, N_("read the first send"));
    while (demo_recv(&t1, conn, buf, sizeof buf) > 0) /* the rest, until the client closes */
        ;
    close(conn);

    /* conn 2: a reader slower than the pause (a client that makes one
     * connection, as the notes' does, is done by now) */
    conn = demo_try_accept(listener, 2, a.sync ? DEMO_WAIT_S : DEMO_SOFT_WAIT_MS / 1000);
    if (conn < 0) {
        demo_say("No second connection came: a client that makes one (as the notes' does) "
                 "shows only the reader that keeps up.");
        say_what_happened(first, 0);
        return 0;
    }
    struct trace t2 = demo_trace(2, &a);
    demo_wait_queued(conn, DEMO_WORDS_SIZE);
    size_t slow = demo_recv(&t2, conn, buf, sizeof buf);
    if (a.live) /* read the rest, to see how the stream was cut this time */
        while (demo_recv(&t2, conn, buf, sizeof buf) > 0)
            ;
    say_what_happened(first, slow);
    return a.sync && !(first == strlen(DEMO_HELLO) && slow == DEMO_WORDS_SIZE) ? 1 : 0;
}

/* say_what_happened - which case this run was (the outcome line counts live runs). */
static void say_what_happened(size_t first, size_t slow)
{
    int apart = first < DEMO_WORDS_SIZE;

    demo_fact("outcome", apart ? "conn 1: hello, then world" : "conn 1: helloworld in one recv");
    if (apart && slow == DEMO_WORDS_SIZE)
        demo_say("conn 1 read during the pause and got the sends apart; conn 2 read after "
                 "it and got one recv of both. The pause did not mark a boundary: when the "
                 "reader reads decides what one recv returns.");
    else if (apart)
        demo_say("conn 1 read during the pause and got the sends apart.");
    else
        demo_say("conn 1's first recv returned %zu bytes: the pause was not long enough "
                 "for this reader. A pause is not a boundary.", first);
}
