/*
 * Demo 7, who merged them? The server reads each of the client's four
 * connections like a server a little behind its client: it waits until every
 * byte is in its receive buffer (FIONREAD), then reads with recv(1024) as
 * often as needed. At the end, one row per connection, and who merged.
 */
#include "demo.h"
#include "frame.h"

#include <stdio.h>

#define USAGE "usage: 07-who-merged-server [--host ADDR] [--port N] [--full]"

#define MODES 4
static const size_t bytes[MODES] = {19, 19, 19, 10}; /* "helloworldhowareyou", "helloworld" */

struct row { int writes, recvs; long segs; size_t waiting; char how[40]; };

static void fact(int conn, const char *name, long value)
{
    printf("server | fact | conn%d.%s = %ld\n", conn, name, value);
    fflush(stdout);
}

/* read_counts - how the client wrote: writes, segments, mode; one frame on the sync connection. */
static void read_counts(int sync, struct row *r)
{
    char text[64];
    uint32_t len;
    if (recv_frame(sync, text, sizeof text - 1, &len) != FRAME_OK)
        demo_die("server", "the client did not send its counts");
    text[len] = '\0';
    if (sscanf(text, "%d %ld %39[^\n]", &r->writes, &r->segs, r->how) != 3)
        demo_die("server", "bad counts from the client: %s", text);
}

/* who_merged - fewer segments than writes: the sender merged writes;
 * fewer recvs than segments: the receive buffer merged segments. */
static const char *who_merged(const struct row *r)
{
    if (r->recvs >= r->writes)
        return "nobody";
    if (r->segs < 0)
        return "? (no TCP_INFO here)";
    if (r->segs >= r->writes)
        return "the receive buffer";
    return r->recvs < r->segs ? "the sender, then the receive buffer" : "the sender";
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int sync = demo_accept_sync(listener);
    struct row rows[MODES], *r;
    size_t alone = 0;
    char buf[1024];

    for (int k = 0; k < MODES; k++) {
        int conn = demo_accept(listener, k + 1);
        struct trace t = demo_trace("server", k + 1, &a);
        if (k == 3) { /* conn 4: "world" is written only once "hello" is here */
            demo_wait_queued(&t, conn, 5);
            fact(t.conn, "waiting_before_world", (long)(alone = demo_queued(conn)));
            demo_sync_post(sync, "server", "hello has arrived, alone");
        }
        demo_wait_queued(&t, conn, bytes[k]); /* every write is in the receive buffer */
        rows[k].waiting = demo_queued(conn);
        fact(t.conn, "waiting", (long)rows[k].waiting);
        for (size_t got = 0, n; got < bytes[k]; got += n) /* recv(1024), as often as needed */
            if ((n = demo_recv(&t, conn, buf, sizeof buf)) == 0)
                demo_die("server", "conn %d closed before all %zu bytes came", t.conn, bytes[k]);
        rows[k].recvs = t.recvs;
        demo_sync_post(sync, "server", "every byte has arrived");
        read_counts(sync, &rows[k]);
        close(conn);
    }

    demo_say("server", "segments: TCP segments that carried the bytes (the client's TCP_INFO); "
                       "waiting: bytes in the receive buffer before the first recv (FIONREAD)");
    demo_say("server", "conn  client wrote with       writes  segments  waiting  recvs  merged by");
    int ok = alone == 5 && rows[3].recvs == 1;
    for (r = rows; r < rows + MODES; r++) {
        char segs[24] = "n/a";
        if (r->segs >= 0)
            snprintf(segs, sizeof segs, "%ld", r->segs);
        demo_say("server", "%4d  %-22s  %6d  %8s  %7zu  %5d  %s", (int)(r - rows) + 1,
                 r->how, r->writes, segs, r->waiting, r->recvs, who_merged(r));
        ok = ok && r->recvs < r->writes;
    }
    if (!ok) {
        demo_say("server", "A connection needed as many recvs as writes: not the lesson.");
        return 1;
    }
    r = &rows[0];
    if (r->segs >= r->writes) /* the ACK came back before each next write */
        demo_say("server", "conn 1: Nagle was on, yet each write left as its own segment: "
                           "Nagle merged nothing here.");
    else if (r->segs >= 0)
        demo_say("server", "conn 1: Nagle held small writes until an ACK came back: %d writes "
                           "left as %ld segments.", r->writes, r->segs);
    demo_say("server", "conn 2: Nagle was off (TCP_NODELAY), yet %d writes came out of %d "
                       "recv%s: TCP_NODELAY does not prevent sticky packets.",
             rows[1].writes, rows[1].recvs, rows[1].recvs == 1 ? "" : "s");
    demo_say("server", "conn 4: \"world\" was written only after \"hello\" had arrived, so they "
                       "left as separate segments; one recv returned \"helloworld\": they merged "
                       "in the receive buffer, where Nagle has no say.");
    return 0;
}
