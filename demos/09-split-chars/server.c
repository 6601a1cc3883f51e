/*
 * Demo 9, split characters: the server reads each text with recv(7) and
 * decodes every recv on its own, as a course's loop does:
 *     data = conn.recv(1024); print(data.decode('utf-8'))
 * 7 plays the part of 1024 for a short text: neither is a multiple of a
 * character's size. 1024 = 3 * 341 + 1, so on a longer Chinese UTF-8 text
 * recv(1024) ends one byte into character 342, just as recv(7) ends one byte
 * into character 3 here.
 */
#include "decode.h"
#include "demo.h"
#include "texts.h"

#include <stdio.h>
#include <string.h>

#define USAGE "usage: 09-split-chars-server [--host ADDR] [--port N] [--full]"
#define ASK 7

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int pieces = 0, whole_pieces = 0, together = 0;

    for (int c = 0; c < 2; c++) {
        const struct encoding *e = &encodings[c];
        int conn = demo_accept(listener, c + 1);
        struct trace t = demo_trace(c + 1, &a);
        unsigned char all[64], buf[ASK];
        char name[16], label[32];
        size_t n;

        /* The whole text is here before the first recv, so every run cuts it
         * where recv(7) says, not where the network happened to. */
        demo_wait_queued(conn, e->len);
        while ((n = demo_recv(&t, conn, buf, ASK)) > 0) { /* data = conn.recv(7) */
            if (t.rcvd > (long)sizeof all)
                demo_die("more text than this demo's client sends");
            memcpy(all + t.rcvd - n, buf, n);
            snprintf(name, sizeof name, "recv%d", t.recvs);
            snprintf(label, sizeof label, demo_tr(N_("recv #%d on its own")), t.recvs);
            whole_pieces += demo_decode(e->name, name, label, buf, n); /* data.decode(...) */
            pieces++;
        }
        together += demo_decode(e->name, "joined", demo_tr(N_("the recvs joined")), all,
                                (size_t)t.rcvd);
        close(conn);
    }
    int ok = whole_pieces == 0 && together == 2;
    if (ok)
        demo_say("None of the %d recvs was text on its own: each holds part of a "
                 "character that a recv boundary cut in two. Joined, the same "
                 "bytes are whole text.", pieces);
    return ok ? 0 : 1;
}
