/*
 * trace.c - every send, recv and delivered message, as one line each (see
 * demo.h). demo_trace_line below is the only place in C that writes them;
 * harness/demolib.py (CALL_LINE) is the only place that reads them.
 */
#include "demo.h"
#include "frame.h"
#include "net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define ABBREV_HEAD 32 /* long data is shown as its first 32 ... */
#define ABBREV_TAIL 16 /* ... and last 16 bytes */
struct trace demo_trace(int conn, const struct demo_args *a)
{
    struct trace t = {conn, DEMO_WAIT_S, a->full, 0, 0, 0, 0, 0, 0, 0, 0, {0}, 0};
    return t;
}

void demo_expect_frames(struct trace *t)
{
    t->frames_in = 1;
    t->next_header = t->rcvd;
    t->header_have = 0;
}

/* add_note - append one item to a line's note: "len 5", "header 1/4 ...". */
static void add_note(char *note, size_t cap, const char *fmt, unsigned long value)
{
    size_t used = strlen(note);
    if (used + 40 > cap)
        return; /* a very long note: the bytes line shows the rest */
    snprintf(note + used, cap - used, "%s", used ? ", " : "");
    used = strlen(note);
    snprintf(note + used, cap - used, fmt, value);
}

/* flush_group - "len 5" for one header, "len 65537 x3" for three alike in a row. */
static void flush_group(char *note, size_t cap, unsigned long len, unsigned long count)
{
    if (count == 1)
        add_note(note, cap, "len %lu", len);
    else if (count > 1) {
        add_note(note, cap, "len %lu", len);
        size_t used = strlen(note);
        snprintf(note + used, cap - used, " x%lu", count);
    }
}

/* note_frames - where this recv's bytes (stream offsets at .. at + n) hold
 * frame headers, and the lengths they say; the partial header of a cut is
 * kept for the next recv. */
static void note_frames(struct trace *t, const unsigned char *p, size_t n, char *note, size_t cap)
{
    long at = t->rcvd, end = t->rcvd + (long)n;
    unsigned long count = 0, last = 0;

    note[0] = '\0';
    while (t->next_header < end) {
        int began = t->header_have > 0; /* a recv before this one cut the header */
        while (t->header_have < FRAME_HEADER_SIZE && t->next_header + t->header_have < end) {
            t->header[t->header_have] = p[t->next_header + t->header_have - at];
            t->header_have++;
        }
        if (t->header_have < FRAME_HEADER_SIZE)
            break; /* the rest of the header comes with a later recv */
        unsigned long len = frame_get_length(t->header);
        if (began)
            add_note(note, cap, "... header: len %lu", len);
        else if (count > 0 && len == last)
            count++;
        else {
            flush_group(note, cap, last, count);
            count = 1, last = len;
        }
        t->next_header += FRAME_HEADER_SIZE + (long)len;
        t->header_have = 0;
    }
    flush_group(note, cap, last, count);
    if (t->header_have > 0 && t->next_header < end)
        add_note(note, cap, "header %lu/4 ...", (unsigned long)t->header_have);
}

/* escape_byte - one byte as C would write it in a string literal. */
static char *escape_byte(char *o, unsigned char c)
{
    static const char named[] = "\n\r\t\"\\", letters[] = "nrt\"\\";
    const char *k = c ? strchr(named, c) : NULL;

    if (k)
        *o++ = '\\', *o++ = letters[k - named];
    else if (c >= 0x20 && c < 0x7f)
        *o++ = (char)c;
    else
        o += sprintf(o, "\\x%02x", c);
    return o;
}

const char *demo_escape(const void *buf, size_t n, int full)
{
    static char *ring[4]; /* four results can be used in one printf */
    static size_t ring_cap[4];
    static int next;
    const unsigned char *p = buf;
    size_t need = n * 4 + 16;
    int k = next++ % 4;

    if (need > ring_cap[k]) {
        free(ring[k]);
        ring_cap[k] = need;
        if (!(ring[k] = malloc(need)))
            demo_die("out of memory");
    }
    char *o = ring[k];
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (!full && n > ABBREV_HEAD + ABBREV_TAIL && i == ABBREV_HEAD) {
            o += sprintf(o, "\" ... \""); /* the byte count is on the same line */
            i = n - ABBREV_TAIL;
        }
        o = escape_byte(o, p[i]);
    }
    *o++ = '"';
    *o = '\0';
    return ring[k];
}

/* escaped_width - the columns one byte takes in a C string literal. */
static size_t escaped_width(unsigned char c)
{
    if (c && strchr("\n\r\t\"\\", c))
        return 2;
    return c >= 0x20 && c < 0x7f ? 1 : 4;
}

/* fitting - how many bytes from one end of p fit in room columns, escaped. */
static size_t fitting(const unsigned char *p, size_t n, size_t room, int from_end)
{
    size_t k = 0, used = 0;
    while (k < n && used + escaped_width(p[from_end ? n - 1 - k : k]) <= room)
        used += escaped_width(p[from_end ? n - 1 - k : k]), k++;
    return k;
}

/* print_bytes - "bytes", or "head" ... "tail" when they need more than room
 * columns (the byte count is on the same line, so nothing is hidden). Short
 * data is always whole: a rule may decode it. */
static void print_bytes(const void *buf, size_t n, size_t room, int full)
{
    const unsigned char *p = buf;

    if (full || n <= ABBREV_HEAD + ABBREV_TAIL || fitting(p, n, room > 2 ? room - 2 : 0, 0) == n) {
        fputs(demo_escape(buf, n, 1), stdout);
        return;
    }
    size_t inner = room > 9 + 12 ? room - 9 : 12; /* the quotes and " ... " */
    size_t head = fitting(p, n, inner - inner / 3, 0);
    size_t tail = fitting(p + head, n - head, inner / 3, 1);
    printf("%s ... ", demo_escape(p, head, 1));
    fputs(demo_escape(p + n - tail, tail, 1), stdout);
}

/*
 * demo_trace_line - the one format of a send, recv or message line:
 *   side | op #num | conn C [| at OFFSET] | N bytes | "bytes" [note] [| asked M]
 * at < 0 leaves out the offset (a message is not a piece of the stream);
 * asked 0 leaves out the size asked for (only recv has one). Without --full
 * the line fits TRACE_WIDTH columns: long data shows its head and tail.
 */
void demo_trace_line(const struct trace *t, const char *op, int num, long at,
                     const void *buf, size_t n, size_t asked, const char *note)
{
    char head[128], tail[224] = "";
    int used;

    if (t->quiet)
        return;
    used = snprintf(head, sizeof head, "%s | %s #%d | conn %d", demo_side(), op, num, t->conn);
    if (at >= 0)
        used += snprintf(head + used, sizeof head - (size_t)used, " | at %ld", at);
    snprintf(head + used, sizeof head - (size_t)used, " | %zu bytes | ", n);
    used = 0;
    if (note && *note)
        used = snprintf(tail, sizeof tail, " [%s]", note);
    if (asked)
        snprintf(tail + used, sizeof tail - (size_t)used, " | asked %zu", asked);
    size_t fixed = strlen(head) + strlen(tail);
    demo_line_begin();
    fputs(head, stdout);
    if (n == 0 && at >= 0)
        fputs("EOF", stdout);
    else
        print_bytes(buf, n, fixed < TRACE_WIDTH - 16 ? TRACE_WIDTH - fixed : 16, t->full);
    printf("%s\n", tail);
    demo_line_end();
}

/* peer_gone - the peer closed with bytes it had not read (the rest of an
 * answer, say), and its kernel answered with a reset: nothing more can be
 * sent or come. Not our error: say so and end. */
static void peer_gone(const struct trace *t, const char *call)
{
    demo_say("conn %d: the peer has gone (%s: %s): it closed, with bytes unread; done",
             t->conn, call, strerror(errno));
    exit(0);
}

void demo_send(struct trace *t, int fd, const void *buf, size_t n)
{
    const char *p = buf;
    t->sends++;
    demo_trace_line(t, "send", t->sends, t->sent, buf, n, 0, NULL);
    while (n > 0) {
        ssize_t k = send(fd, p, n, NET_SEND_FLAGS);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == ECONNRESET || errno == EPIPE))
            peer_gone(t, "send");
        if (k < 0)
            demo_die("send: %s", strerror(errno));
        if ((size_t)k < n)
            demo_say("(send #%d: the kernel took %zd of %zu bytes; sending the rest)",
                     t->sends, k, n);
        p += k, n -= (size_t)k, t->sent += k;
    }
}

/* step - step mode: say what waits and what the recv asks for, then wait for
 * a line on stdin (the person presses Enter). Stdin at its end: no more steps. */
static void step(const struct trace *t, int fd, size_t cap)
{
    static int done;
    char c = 0;

    if (!demo_step_mode() || t->quiet || done)
        return;
    demo_say("[step] recv #%d on conn %d asks for %zu bytes; %zu bytes wait (FIONREAD)",
             t->recvs + 1, t->conn, cap, demo_queued(fd));
    /* read(), not stdio: a line buffered by stdio would hide from the next wait */
    while (c != '\n' && !done)
        if (!demo_readable(0, DEMO_WAIT_PERSON_S) || read(0, &c, 1) != 1)
            done = 1;
}

size_t demo_recv(struct trace *t, int fd, void *buf, size_t cap)
{
    ssize_t n;
    step(t, fd, cap);
    if (!demo_readable(fd, demo_patience(t->wait_s)))
        demo_die("nothing came on conn %d for %d s (recv #%d, after %ld bytes): is the "
                 "peer waiting for us, or speaking another protocol?", t->conn,
                 demo_patience(t->wait_s), t->recvs + 1, t->rcvd);
    do
        n = recv(fd, buf, cap, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && errno == ECONNRESET)
        peer_gone(t, "recv");
    if (n < 0)
        demo_die("recv: %s", strerror(errno));
    t->recvs++;
    char note[160] = "";
    if (t->frames_in)
        note_frames(t, buf, (size_t)n, note, sizeof note);
    demo_trace_line(t, "recv", t->recvs, t->rcvd, buf, (size_t)n, cap, note);
    t->rcvd += n;
    return (size_t)n;
}

void demo_finish(const struct trace *t, int fd)
{
    char buf[4096];
    ssize_t n = 1;

    shutdown(fd, SHUT_WR); /* FIN: "nothing more from us" */
    while (n != 0 && demo_readable(fd, DEMO_SOFT_WAIT_MS / 1000)) {
        n = recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == ECONNRESET)
            peer_gone(t, "recv");
        if (n < 0 && errno != EINTR)
            break;
    }
    close(fd);
}

void demo_send_frame(struct trace *t, int fd, const void *body, size_t n)
{
    unsigned char *wire = malloc(FRAME_HEADER_SIZE + n); /* only to print the wire bytes */
    if (!wire)
        demo_die("out of memory");
    frame_put_length(wire, (uint32_t)n);
    memcpy(wire + FRAME_HEADER_SIZE, body, n);
    t->sends++;
    char note[32];
    snprintf(note, sizeof note, "len %zu", n);
    demo_trace_line(t, "send", t->sends, t->sent, wire, FRAME_HEADER_SIZE + n, 0, note);
    free(wire);
    if (send_frame(fd, body, n) != FRAME_OK)
        demo_die("send_frame: %s", strerror(errno));
    t->sent += (long)(FRAME_HEADER_SIZE + n);
}

void demo_message(struct trace *t, const void *body, size_t n)
{
    t->messages++;
    demo_trace_line(t, "message", t->messages, -1, body, n, 0, NULL);
}

int demo_deliver(struct trace *t, struct frame_reader *r, const void *buf, size_t n)
{
    const unsigned char *body;
    uint32_t len;
    int delivered = 0;
    int status;

    if (frame_reader_push(r, buf, n) != FRAME_OK)
        demo_die("out of memory");
    while ((status = frame_reader_next(r, &body, &len)) == FRAME_OK) {
        demo_message(t, body, len);
        delivered++;
    }
    if (status != FRAME_AGAIN)
        demo_die_bad_frame(r, status);
    if (frame_reader_pending(r))
        demo_say("%zu bytes of an unfinished frame wait in the reader for the next recv",
                 frame_reader_pending(r));
    return delivered;
}

void demo_die_bad_frame(const struct frame_reader *r, int status)
{
    char why[200];

    if (status == FRAME_TOO_BIG)
        frame_describe_length(why, sizeof why, r->bad_length, r->bad_known, r->max_body);
    else
        snprintf(why, sizeof why, "%s", frame_strerror(status));
    demo_die("not a frame: %s. This program expects every message as a frame: a 4-byte "
             "big-endian length (struct.pack('!I', n)), then the bytes", why);
}

size_t demo_queued(int fd)
{
    int n = 0;
    if (ioctl(fd, FIONREAD, &n) < 0)
        demo_die("ioctl(FIONREAD): %s", strerror(errno));
    return (size_t)n;
}

size_t demo_wait_queued(int fd, size_t n)
{
    int limit_ms = demo_patience(demo_sync_mode() ? DEMO_WAIT_S : DEMO_SOFT_WAIT_MS / 1000) * 1000;
    size_t queued;

    if (demo_live_mode())
        return demo_queued(fd);
    for (int ms = 0; (queued = demo_queued(fd)) < n; ms++) {
        if (ms >= limit_ms && demo_sync_mode())
            demo_die("only %zu of %zu bytes arrived in %d s", queued, n, limit_ms / 1000);
        if (ms >= limit_ms) {
            demo_say("[sync] waited %d s for %zu bytes, %zu came: reading what is there",
                     limit_ms / 1000, n, queued);
            return queued;
        }
        demo_pause_ms(1); /* poll again: the condition, not the sleep, ends the wait */
    }
    demo_say("[sync] waited until %zu bytes were in (FIONREAD: %zu)", n, queued);
    return queued;
}
