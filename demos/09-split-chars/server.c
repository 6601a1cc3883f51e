/*
 * Demo 9, split characters: the server reads each text with recv(7) and
 * decodes every recv on its own, as a course's loop does:
 *     data = conn.recv(1024); print(data.decode('utf-8'))
 * 7 plays the part of 1024 for a short text: neither is a multiple of a
 * character's size. 1024 = 3 * 341 + 1, so on a longer Chinese UTF-8 text
 * recv(1024) ends one byte into character 342, just as recv(7) ends one byte
 * into character 3 here.
 */
#include "demo.h"

#include <stdio.h>
#include <string.h>

#define USAGE "usage: 09-split-chars-server [--host ADDR] [--port N] [--full]"
#define ASK 7

/* utf8_bad_at - offset of the first character that is cut off or malformed,
 * or -1 if every byte belongs to a whole character. Strict, as Python's
 * decoder: no overlong forms, no surrogates, nothing above U+10FFFF. */
static long utf8_bad_at(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i], lo = 0x80, hi = 0xbf; /* allowed range of byte 2 */
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (len == 0 || i + len > n)
            return (long)i; /* a byte that starts no character, or a character cut off */
        lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : lo; /* overlong forms */
        hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : hi; /* surrogates, above U+10FFFF */
        for (size_t k = 1; k < len; k++)
            if (p[i + k] < (k == 1 ? lo : 0x80) || p[i + k] > (k == 1 ? hi : 0xbf))
                return (long)i;
        i += len;
    }
    return -1;
}

/* gbk_bad_at - the same for GBK's structure: a byte below 0x80 is a character
 * by itself; a lead byte 0x81-0xfe needs a trail byte 0x40-0xfe (not 0x7f).
 * It does not know which pairs GBK leaves unassigned. */
static long gbk_bad_at(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80)
            continue;
        if (p[i] == 0x80 || p[i] == 0xff || i + 1 == n || p[i + 1] < 0x40 || p[i + 1] == 0x7f
            || p[i + 1] == 0xff)
            return (long)i;
        i++; /* the trail byte */
    }
    return -1;
}

static const struct encoding {
    const char *name, *shown; /* fact name, name for people */
    long (*bad_at)(const unsigned char *, size_t);
    size_t len; /* what the client sends: 15 and 10 bytes */
} encodings[] = {{"utf8", "UTF-8", utf8_bad_at, 15}, {"gbk", "GBK", gbk_bad_at, 10}};

/* decode - decode p on its own, as data.decode() does: print a fact line
 * (named name) and a line for people (about label). Returns 1 if valid. */
static int decode(const struct encoding *e, const char *name, const char *label,
                  const unsigned char *p, size_t n)
{
    long bad = e->bad_at(p, n);
    printf("server | fact | %s_%s = %s\n", name, e->name, bad < 0 ? "valid" : "invalid");
    if (bad >= 0) {
        printf("server | fact | %s_%s_bad_at = %ld\n", name, e->name, bad);
        demo_say("server", "%s: not %s, it breaks at byte %ld (0x%02x)", label, e->shown, bad,
                 p[bad]);
    } else if (e->bad_at == utf8_bad_at) { /* the terminal speaks UTF-8: show the text */
        demo_say("server", "%s: valid %s: %.*s", label, e->shown, (int)n, (const char *)p);
    } else {
        demo_say("server", "%s: valid %s (not shown: the terminal speaks UTF-8)", label, e->shown);
    }
    return bad < 0;
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int listener = demo_listen(&a);
    int pieces = 0, whole_pieces = 0, together = 0;

    for (int c = 0; c < 2; c++) {
        const struct encoding *e = &encodings[c];
        int conn = demo_accept(listener, c + 1);
        struct trace t = demo_trace("server", c + 1, &a);
        unsigned char all[64], buf[ASK];
        char name[16], label[32];
        size_t n;

        /* The whole text is here before the first recv, so every run cuts it
         * where recv(7) says, not where the network happened to. */
        demo_wait_queued(&t, conn, e->len);
        while ((n = demo_recv(&t, conn, buf, ASK)) > 0) { /* data = conn.recv(7) */
            if (t.rcvd > (long)sizeof all)
                demo_die("server", "more text than this demo's client sends");
            memcpy(all + t.rcvd - n, buf, n);
            snprintf(name, sizeof name, "recv%d", t.recvs);
            snprintf(label, sizeof label, "recv #%d on its own", t.recvs);
            whole_pieces += decode(e, name, label, buf, n); /* data.decode(...) */
            pieces++;
        }
        together += decode(e, "joined", "the recvs joined", all, (size_t)t.rcvd);
        close(conn);
    }
    int ok = whole_pieces == 0 && together == 2;
    if (ok)
        demo_say("server", "None of the %d recvs was text on its own: each holds part of a "
                           "character that a recv boundary cut in two. Joined, the same "
                           "bytes are whole text.", pieces);
    return ok ? 0 : 1;
}
