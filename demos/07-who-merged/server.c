/*
 * Demo 7, who merged them? The server reads each of the client's four
 * connections like a server a little behind its client: it waits until every
 * byte is in its receive buffer (FIONREAD), then reads with recv(1024) as
 * often as needed. At the end, one row per connection, and who merged.
 */
#include "demo.h"
#include "frame.h"
#include "words.h"

#include <stdio.h>
#include <string.h>

#define USAGE "usage: 07-who-merged-server [--host ADDR] [--port N] [--full] [--sync]"


struct row { int writes, recvs; long segs; size_t waiting; char how[40]; };

/* fact - "server | fact | connN.name = value" */
static void fact(int conn, const char *name, long value)
{
    char full[40];
    snprintf(full, sizeof full, "conn%d.%s", conn, name);
    demo_fact(full, "%ld", value);
}

/* read_counts - how the client wrote: writes, segments, mode; one frame on the
 * sync connection (without --sync, only what the server can see for itself). */
static void read_counts(int sync, int k, struct row *r)
{
    char text[64];
    uint32_t len;
    if (sync < 0) {
        r->writes = writes_of(k), r->segs = -1;
        snprintf(r->how, sizeof r->how, "(how: only with --sync)");
        return;
    }
    if (recv_frame(sync, text, sizeof text - 1, &len) != FRAME_OK)
        demo_die("the client did not send its counts");
    text[len] = '\0';
    if (sscanf(text, "%d %ld %39[^\n]", &r->writes, &r->segs, r->how) != 3)
        demo_die("bad counts from the client: %s", text);
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

static void read_connection(int sync, int conn, struct trace *t, int k, struct row *r);
static void print_table(const struct row *rows);
static void conclude(const struct row *rows);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int sync = demo_accept_sync(&a, listener);
    struct row rows[MODES];
    size_t alone = 0;

    for (int k = 0; k < MODES; k++) {
        int conn = demo_accept(listener, k + 1);
        struct trace t = demo_trace(k + 1, &a);
        if (k == PACED) { /* conn 4: "world" is written only once "hello" is here */
            demo_wait_queued(conn, strlen(words[0]));
            fact(t.conn, "waiting_before_world", (long)(alone = demo_queued(conn)));
            demo_sync_post(sync, "hello has arrived, alone");
        }
        read_connection(sync, conn, &t, k, &rows[k]);
        close(conn);
    }

    print_table(rows);
    int ok = alone == strlen(words[0]) && rows[PACED].recvs == 1;
    for (int k = 0; k < MODES; k++)
        ok = ok && rows[k].recvs < rows[k].writes;
    if (!ok) {
        demo_say("A connection needed as many recvs as writes: not the lesson.");
        return 1;
    }
    conclude(rows);
    return 0;
}

/* read_connection - like a server a little behind its client: wait until every
 * byte is in the receive buffer (FIONREAD), then recv(1024) as often as needed. */
static void read_connection(int sync, int conn, struct trace *t, int k, struct row *r)
{
    char buf[1024];

    demo_wait_queued(conn, bytes_of(k)); /* every write is in the receive buffer */
    r->waiting = demo_queued(conn);
    fact(t->conn, "waiting", (long)r->waiting);
    for (size_t got = 0, n; got < bytes_of(k); got += n) /* recv(1024), as often as needed */
        if ((n = demo_recv(t, conn, buf, sizeof buf)) == 0)
            demo_die("conn %d closed before all %zu bytes came", t->conn, bytes_of(k));
    r->recvs = t->recvs;
    demo_sync_post(sync, "every byte has arrived");
    read_counts(sync, k, r);
}

/* print_table - one row per connection, and who merged. */
static void print_table(const struct row *rows)
{
    demo_say("segments: TCP segments that carried the bytes (the client's TCP_INFO); "
             "waiting: bytes in the receive buffer before the first recv (FIONREAD)");
    demo_say("conn  client wrote with       writes  segments  waiting  recvs  merged by");
    for (const struct row *r = rows; r < rows + MODES; r++) {
        char segs[24] = "n/a";
        if (r->segs >= 0)
            snprintf(segs, sizeof segs, "%ld", r->segs);
        demo_say("%4d  %-22s  %6d  %8s  %7zu  %5d  %s", (int)(r - rows) + 1, r->how,
                 r->writes, segs, r->waiting, r->recvs, who_merged(r));
    }
}

/* conclude - what the table shows, in words. */
static void conclude(const struct row *rows)
{
    const struct row *r = &rows[NAGLE];

    if (r->segs >= r->writes) /* the ACK came back before each next write */
        demo_say("conn 1: Nagle was on, yet each write left as its own segment: "
                 "Nagle merged nothing here.");
    else if (r->segs >= 0)
        demo_say("conn 1: Nagle held small writes until an ACK came back: %d writes "
                 "left as %ld segments.", r->writes, r->segs);
    demo_say("conn 2: Nagle was off (TCP_NODELAY), yet %d writes came out of %d "
             "recv%s: TCP_NODELAY does not prevent sticky packets.",
             rows[NODELAY].writes, rows[NODELAY].recvs, rows[NODELAY].recvs == 1 ? "" : "s");
    demo_say("conn 4: \"world\" was written only after \"hello\" had arrived, so they "
             "left as separate segments; one recv returned \"helloworld\": they merged "
             "in the receive buffer, where Nagle has no say.");
}
