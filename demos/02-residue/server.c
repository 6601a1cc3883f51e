/* Demo 2, residue (拆包): recv(1) takes one byte, the rest waits for the next recv. */
#include "demo.h"

#define USAGE "usage: 02-residue-server [--host ADDR] [--port N] [--full] [--sync|--live]"

static void say_what_happened(size_t first, size_t rest);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int conn = demo_accept(listener, 1);
    struct trace t = demo_trace(1, &a);
    char buf[1024];

    demo_wait_queued(conn, DEMO_WORDS_SIZE); /* both sends have arrived (not with --live) */

    size_t first = demo_recv(&t, conn, buf, 1);  /* recv(conn, buf, 1, 0) */
    demo_say("%zu bytes are still waiting in the receive buffer.", demo_queued(conn));
    size_t rest = demo_recv(&t, conn, buf, 1024); /* the next recv gets the leftovers */

    if (a.live) /* read the rest, to see how the stream was cut this time */
        while (demo_recv(&t, conn, buf, sizeof buf) > 0)
            ;
    say_what_happened(first, rest);
    return a.sync && !(first == 1 && rest == DEMO_WORDS_SIZE - 1) ? 1 : 0;
}

/* say_what_happened - which case this run was (the outcome line counts live runs). */
static void say_what_happened(size_t first, size_t rest)
{
    if (first == 1 && rest >= DEMO_WORDS_SIZE - 1) {
        demo_fact("outcome", "h, then elloworld");
        demo_say("recv(1) took one byte; the other %zu stayed in the kernel and came "
                 "out of the next recv, whatever that recv was meant to read.", rest);
    } else {
        demo_fact("outcome", "h, then ello (world later)");
        demo_say("recv(1) took %zu byte, the next recv %zu: the rest had not all arrived "
                 "yet. Run it again: how the bytes are cut is up to timing.", first, rest);
    }
}
