/*
 * Demo 5, the course's own fix, ported faithfully. The receive loop is the
 * notes' own:
 *     while recv_size < total_size:
 *         recv_data += phone.recv(1024)
 *         recv_size += len(recv_data)      # all received so far, not this recv
 * It works for short answers. Its two flaws: every command waits for a
 * delayed ACK (three sends), and an answer of 2049..3072 bytes is cut short.
 */
#include "demo.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define USAGE "usage: 05-course-fix-client --port N [--host ADDR] [--full]"
#define MAX_ANSWER (1 << 20) /* a longer "length" is taken for garbage */

static const char *commands[] = {"echo out; echo err >&2", "echo out; echo err >&2",
                                  "echo out; echo err >&2", DEMO_LONG_COMMAND, "echo hi"};

/* swap - the same 4 bytes read in the other byte order */
static uint32_t swap(uint32_t v)
{
    return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
}

static void stop_at_garbage(int conn, const char *command, const char *header, int32_t total);
static void report_byte_order(int32_t total);
static void report_time(int i, double start);
static void report_short_read(int conn, long recv_size, long got, int32_t total);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace(1, &a);
    static char recv_data[MAX_ANSWER];

    for (int i = 0; i < 5; i++) {
        double start = demo_now_ms();
        demo_send(&t, conn, commands[i], strlen(commands[i])); /* phone.send(cmd) */

        char header[4];
        int32_t total_size;
        demo_recv(&t, conn, header, 4);          /* header = phone.recv(4) */
        memcpy(&total_size, header, 4);          /* struct.unpack('i', header)[0] */
        if (total_size < 0 || total_size > MAX_ANSWER)
            stop_at_garbage(conn, commands[i], header, total_size);
        if (i == 0)
            report_byte_order(total_size);
        /* Read once the whole answer is here, so every recv(1024) below returns
         * as much as it can, as on any fast network; the bug does not need luck. */
        demo_wait_queued(conn, (size_t)total_size);

        long recv_size = 0, got = 0;
        while (recv_size < total_size) {          /* the notes' loop, as written */
            got += (long)demo_recv(&t, conn, recv_data + got, 1024);
            recv_size += got;                     /* += len(recv_data) */
        }
        report_time(i, start);
        if (got < total_size)
            report_short_read(conn, recv_size, got, total_size);
    }
    demo_say("(unreachable: the last header should have been garbage)");
    return 1;
}

/* stop_at_garbage - the header was read from old output: say so, and stop
 * where the notes' client would wait forever for that many bytes. */
static void stop_at_garbage(int conn, const char *command, const char *header, int32_t total)
{
    char rest[4096];

    demo_fact("garbage_length", "%ld", (long)total);
    demo_say("The header of %s decodes as %ld: those 4 bytes, %s, are the rest "
             "of the previous answer. The notes' client would now wait forever "
             "for that many bytes; we stop here.",
             demo_escape(command, strlen(command), 0), (long)total, demo_escape(header, 4, 1));
    shutdown(conn, SHUT_WR); /* a clean close: let the server see EOF ... */
    while (recv(conn, rest, sizeof rest, 0) > 0)
        ;                    /* ... and discard the rest, instead of a reset */
    exit(0);
}

/* report_byte_order - what a peer with the other byte order would read. */
static void report_byte_order(int32_t total)
{
    unsigned long other = (unsigned long)swap((uint32_t)total);

    demo_fact("header_in_other_byte_order", "%lu", other);
    demo_say("struct.pack('i') used this machine's byte order: a peer with the "
             "other order would read this header as %lu, not %ld.", other, (long)total);
}

/* report_time - how long command i took, from send to its last recv. */
static void report_time(int i, double start)
{
    char name[32];

    snprintf(name, sizeof name, "command_%d_ms", i + 1);
    demo_fact(name, "%.2f", demo_now_ms() - start); /* shown, never asserted */
}

/* report_short_read - the loop stopped before the answer's end. */
static void report_short_read(int conn, long recv_size, long got, int32_t total)
{
    demo_fact("bytes_left_unread", "%ld", total - got);
    demo_say("The loop stopped at recv_size %ld with only %ld of %ld bytes read: "
             "%zu bytes of this answer wait unread for the next command.",
             recv_size, got, (long)total, demo_queued(conn));
}
