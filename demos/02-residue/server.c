/* Demo 2, residue (拆包): recv(1) takes one byte, the rest waits for the next recv. */
#include "demo.h"

#define USAGE "usage: 02-residue-server [--host ADDR] [--port N] [--full]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int conn = demo_accept(listener, 1);
    struct trace t = demo_trace(1, &a);
    char buf[1024];

    demo_wait_queued(conn, DEMO_WORDS_SIZE); /* both sends have arrived */

    size_t first = demo_recv(&t, conn, buf, 1);  /* recv(conn, buf, 1, 0) */
    demo_say("%zu bytes are still waiting in the receive buffer.", demo_queued(conn));
    size_t rest = demo_recv(&t, conn, buf, 1024); /* the next recv gets the leftovers */

    int ok = first == 1 && rest == DEMO_WORDS_SIZE - 1;
    if (ok)
        demo_say("recv(1) took one byte; the other %zu stayed in the kernel and came "
                 "out of the next recv, whatever that recv was meant to read.", rest);
    else
        demo_say("recvs returned %zu and %zu bytes, not 1 and %zu.", first, rest,
                 DEMO_WORDS_SIZE - 1);
    return ok ? 0 : 1;
}
