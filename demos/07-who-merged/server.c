/*
 * Demo 7, who merged them? The server reads each of the client's six
 * connections (see words.h) like a server a little behind its client: it
 * waits until every byte is in its receive buffer (FIONREAD), then reads with
 * recv(1024) as often as needed. On conns 5 and 6 it first delays its ACKs
 * (TCP_QUICKACK 0), so that the client's first small write, "hi", stays
 * unacknowledged for tens of milliseconds: Nagle's algorithm, as Linux
 * implements it (Minshall's variant), lets a small segment leave unless an
 * earlier small segment is still unacknowledged, and with TCP_NODELAY always.
 * At the end, one row per connection, who merged, and what that showed.
 */
#include "demo.h"
#include "frame.h"
#include "words.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define USAGE "usage: 07-who-merged-server [--host ADDR] [--port N] [--full] [--sync]"

struct row {
    int conn, writes, recvs, ok;
    long segs, hw, held; /* -1: not measured, or the system does not say */
    size_t waiting;
    char how[40];
};

/* fact - "server | fact | connN.name = value" */
static void fact(int conn, const char *name, long value)
{
    char full[40];
    snprintf(full, sizeof full, "conn%d.%s", conn, name);
    demo_fact(full, "%ld", value);
}

/* read_counts - how the client wrote (words.h: COUNTS_FORMAT), one frame on
 * the sync connection (without --sync, only what the server can see). */
static void read_counts(int sync, int k, struct row *r)
{
    char text[96];
    uint32_t len;
    if (sync < 0) {
        r->writes = writes_of(k), r->segs = r->hw = r->held = -1, r->ok = 1;
        snprintf(r->how, sizeof r->how, "%s", N_("(how: only with --sync)"));
        return;
    }
    if (recv_frame(sync, text, sizeof text - 1, &len) != FRAME_OK)
        demo_die("the client did not send its counts");
    text[len] = '\0';
    if (sscanf(text, COUNTS_SCAN, &r->writes, &r->segs, &r->hw, &r->held, &r->ok, r->how) != 6)
        demo_die("bad counts from the client: %s", text);
}

/* who_merged - fewer segments than writes: the sender merged writes;
 * fewer recvs than segments: the receive buffer merged segments. */
static const char *who_merged(const struct row *r)
{
    if (r->recvs >= r->writes)
        return N_("nobody");
    if (r->segs < 0)
        return N_("? (no TCP_INFO here)");
    if (r->segs >= r->writes)
        return N_("receive buffer");
    return r->recvs < r->segs ? N_("sender + receive buffer") : N_("sender");
}

/* delay_acks - conns 5 and 6: the next segment waits for a delayed ACK
 * (tens of ms), not for ever: the delayed-ACK timer ends this mode (tcp(7)). */
static void delay_acks(int sync, int conn)
{
#ifdef TCP_QUICKACK
    int off = 0;
    if (setsockopt(conn, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off) < 0)
        demo_die("setsockopt(TCP_QUICKACK): %s", strerror(errno));
    demo_sync_post(sync, ACK_DELAYED);
#else
    (void)conn;
    demo_say("TCP_QUICKACK is not available on this system: \"hi\" may be ACKed at once");
    demo_sync_post(sync, NO_ACK_DELAY);
#endif
}

static void read_connection(int sync, int conn, struct trace *t, int k, struct row *r);
static int lesson_shown(const struct row *rows, size_t alone);
static void print_table(const struct row *rows);
static void conclude(const struct row *rows);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int sync = demo_accept_sync(&a, listener), conn_no = 0;
    struct row rows[MODES];
    size_t alone = 0;

    for (int k = 0; k < MODES; k++)
        for (int try = 1;; try++) { /* a retry (words.h): only with --sync */
            int conn = demo_accept(listener, ++conn_no);
            struct trace t = demo_trace(conn_no, &a);
            if (k == PACED) { /* conn 4: "world" is written only once "hello" is here */
                demo_wait_queued(conn, strlen(words[0]));
                fact(t.conn, "waiting_before_world", (long)(alone = demo_queued(conn)));
                demo_sync_post(sync, N_("hello has arrived, alone"));
            }
            if (delayed_ack(k))
                delay_acks(sync, conn);
            read_connection(sync, conn, &t, k, &rows[k]);
            close(conn);
            if (rows[k].ok || try == TRIES || sync < 0)
                break;
        }

    print_table(rows);
    if (!lesson_shown(rows, alone)) {
        demo_say("A connection did not show its case (see the rows above): not the lesson.");
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
    r->conn = t->conn;
    if (sync >= 0 && send_frame(sync, DONE, strlen(DONE)) != FRAME_OK) /* words.h */
        demo_die("sync connection: %s", strerror(errno));
    read_counts(sync, k, r);
}

/* lesson_shown - every connection took fewer recvs than writes; conn 4's
 * "hello" arrived alone; on conns 5 and 6 the ACK of "hi" was outstanding
 * when "world" was written, and one recv returned every byte. */
static int lesson_shown(const struct row *rows, size_t alone)
{
    int ok = alone == strlen(words[0]) && rows[PACED].recvs == 1;

    for (int k = 0; k < MODES; k++)
        ok = ok && rows[k].recvs < rows[k].writes && rows[k].ok;
    return ok && rows[NAGLE_DELAYED].recvs == 1 && rows[NODELAY_DELAYED].recvs == 1;
}

static const char *table_row(char *line, size_t cap, char cell[7][96], const int *w);

/* print_table - one row per connection, and who merged: the columns as wide
 * as their (translated) names need, counted in terminal columns. */
static void print_table(const struct row *rows)
{
    static const char *names[] = {N_("conn"), N_("client wrote with"), N_("writes"),
                                  N_("segments"), N_("waiting"), N_("recvs"), N_("merged by")};
    int w[] = {4, 24, 6, 8, 7, 5, 0};
    char cell[7][96], line[512];

    demo_say("segments: from the client's TCP_INFO; waiting: bytes queued at the first recv "
             "(FIONREAD)");
    for (int i = 0; i < 7; i++) {
        snprintf(cell[i], sizeof cell[i], "%s", demo_tr(names[i]));
        if (demo_columns(cell[i]) > w[i])
            w[i] = demo_columns(cell[i]);
    }
    demo_say_as_is("%s", table_row(line, sizeof line, cell, w));
    for (const struct row *r = rows; r < rows + MODES; r++) {
        snprintf(cell[0], sizeof cell[0], "%d", r->conn);
        snprintf(cell[1], sizeof cell[1], "%s", demo_tr(r->how));
        snprintf(cell[2], sizeof cell[2], "%d", r->writes);
        snprintf(cell[3], sizeof cell[3], "%s", demo_tr(N_("n/a")));
        if (r->segs >= 0)
            snprintf(cell[3], sizeof cell[3], "%ld", r->segs);
        snprintf(cell[4], sizeof cell[4], "%zu", r->waiting);
        snprintf(cell[5], sizeof cell[5], "%d", r->recvs);
        snprintf(cell[6], sizeof cell[6], "%s", demo_tr(who_merged(r)));
        demo_say_as_is("%s", table_row(line, sizeof line, cell, w));
    }
}

/* table_row - the cells, two spaces apart: the second column on the left,
 * the numbers on the right of their width, the last as it is. */
static const char *table_row(char *line, size_t cap, char cell[7][96], const int *w)
{
    size_t used = 0;
    for (int i = 0; i < 7 && used < cap; i++)
        used += (size_t)snprintf(line + used, cap - used, "%s%s", i ? "  " : "",
                                 demo_pad(cell[i], i == 6 ? 0 : w[i], i != 1 && i != 6));
    return line;
}

/* conclude_nagle - conns 1, 5 and 6: what Nagle did, as measured; nothing
 * where the system could not count. */
static void conclude_nagle(const struct row *rows)
{
    const struct row *fresh = &rows[NAGLE], *held = &rows[NAGLE_DELAYED];
    const struct row *nodelay = &rows[NODELAY_DELAYED];

    if (fresh->segs == fresh->writes)
        demo_say("conn 1: fresh: %d writes, %ld segments: Nagle merged nothing (each ACK "
                 "came back first).", fresh->writes, fresh->segs);
    else if (fresh->segs >= 0)
        demo_say("conn 1: fresh, yet %d writes left as %ld segments: the sender merged some "
                 "this time.", fresh->writes, fresh->segs);
    if (held->held == held_by_nagle() && held->hw == 1)
        demo_say("conn %d: while \"hi\" was unACKed, Nagle held hello and world (%ld bytes), "
                 "then sent 1 segment.", held->conn, held->held);
    else if (held->held >= 0 && held->hw >= 0)
        demo_say("conn %d: Nagle held %ld bytes; hello and world left as %ld segments.",
                 held->conn, held->held, held->hw);
    if (nodelay->held == 0 && nodelay->hw == 2)
        demo_say("conn %d: the same with TCP_NODELAY: nothing held, hello and world: "
                 "2 segments.", nodelay->conn);
    else if (nodelay->held >= 0 && nodelay->hw >= 0)
        demo_say("conn %d: with TCP_NODELAY, %ld bytes held; hello and world: %ld segments.",
                 nodelay->conn, nodelay->held, nodelay->hw);
}

/* conclude - what the table shows, in words: only what this run measured. */
static void conclude(const struct row *rows)
{
    int one = 1;

    conclude_nagle(rows);
    demo_say("conn 4: \"world\" was written only after \"hello\" had arrived: they "
             "never shared a segment.");
    for (int k = 0; k < MODES; k++)
        one = one && rows[k].recvs == 1;
    if (!one)
        return;
    demo_say("With TCP_NODELAY too (conns %d, %d, %d): 1 recv each. It does not prevent "
             "sticky packets.", rows[NODELAY].conn, rows[PACED].conn, rows[NODELAY_DELAYED].conn);
    demo_say("Every row took 1 recv: whatever the sender did, the bytes merged in the "
             "receive buffer.");
}
