/* Demo 1, coalesce (粘包): two sends, one recv. The client. */
#include "demo.h"

#include <string.h>

#define USAGE "usage: 01-coalesce-client --port N [--host ADDR] [--full] [--sync|--live]"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace(1, &a);

    demo_send(&t, conn, DEMO_HELLO, strlen(DEMO_HELLO)); /* client.send(b"hello") */
    demo_pause_between_sends(&a);                       /* none (--live: a few µs to 2 ms) */
    demo_send(&t, conn, DEMO_WORLD, strlen(DEMO_WORLD)); /* client.send(b"world") */
    return 0;
}
