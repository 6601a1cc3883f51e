/* Demo 3, fixed: the same sends and pauses, as frames. */
#include "demo.h"

#include <string.h>

#define USAGE "usage: 03-delayed-fixed-client --port N [--host ADDR] [--pause-ms MS] [--full] [--sync]\n" \
              "  --pause-ms MS  pause between the two sends (default 300; the notes use 5000)"

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, DEMO_WANTS_PAUSE, 300);
    int sync = demo_connect_sync(&a);

    /* conn 1: the server reads during our pause */
    int conn = demo_connect(&a, 1);
    struct trace t1 = demo_trace(1, &a);
    demo_send_frame(&t1, conn, DEMO_HELLO, strlen(DEMO_HELLO));
    demo_say("pause %ld ms (time.sleep in the notes)", a.pause_ms);
    demo_pause_ms(a.pause_ms);
    /* On a busy machine the server may not have run yet: check, don't hope. */
    demo_sync_wait(sync, N_("read the first send"));
    demo_send_frame(&t1, conn, DEMO_WORLD, strlen(DEMO_WORLD));
    demo_close(conn);

    /* conn 2: the same sends and pause; the server reads late this time */
    if ((conn = demo_try_connect(&a, 2)) < 0) {
        demo_say("The server took no second connection (it serves one).");
        return 0;
    }
    struct trace t2 = demo_trace(2, &a);
    demo_send_frame(&t2, conn, DEMO_HELLO, strlen(DEMO_HELLO));
    demo_say("pause %ld ms", a.pause_ms);
    demo_pause_ms(a.pause_ms);
    demo_send_frame(&t2, conn, DEMO_WORLD, strlen(DEMO_WORLD));
    demo_finish(&t2, conn);
    return 0;
}
