/* Demo 3, delayed: send "hello", pause, send "world" - twice. The client. */
#include "demo.h"

#include <string.h>

#define USAGE "usage: 03-delayed-client --port N [--host ADDR] [--pause-ms MS] [--full] [--sync|--live]\n" \
              "  --pause-ms MS  pause between the two sends (default 300; the notes use 5000)"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, DEMO_WANTS_PAUSE, 300);
    int sync = demo_connect_sync(&a);

    /* conn 1: the server reads during our pause */
    int conn = demo_connect(&a, 1);
    struct trace t1 = demo_trace(1, &a);
    demo_send(&t1, conn, DEMO_HELLO, strlen(DEMO_HELLO));
    demo_pause_between_sends(&a); /* time.sleep(5) in the notes */
    /* On a busy machine the server may not have run yet: check, don't hope. */
    demo_sync_wait(sync, N_("read the first send"));
    demo_send(&t1, conn, DEMO_WORLD, strlen(DEMO_WORLD));
    demo_close(conn);

    /* conn 2: the same sends and pause; the server reads late this time */
    if ((conn = demo_try_connect(&a, 2)) < 0) {
        demo_say("The server took no second connection (one that serves one, as the notes' "
                 "server does). With bin/03-delayed-server, conn 2 shows a reader slower "
                 "than the pause.");
        return 0;
    }
    struct trace t2 = demo_trace(2, &a);
    demo_send(&t2, conn, DEMO_HELLO, strlen(DEMO_HELLO));
    demo_pause_between_sends(&a);
    demo_send(&t2, conn, DEMO_WORLD, strlen(DEMO_WORLD));
    demo_finish(&t2, conn); /* a server that exited without accepting it resets it */
    return 0;
}
