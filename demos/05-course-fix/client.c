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
#include <time.h>

#define USAGE "usage: 05-course-fix-client --port N [--host ADDR] [--full]"

static const char *commands[] = {"echo out; echo err >&2", "echo out; echo err >&2",
                                  "echo out; echo err >&2", DEMO_LONG_COMMAND, "echo hi"};

/* swap - the same 4 bytes read in the other byte order */
static uint32_t swap(uint32_t v)
{
    return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace("client", 1, &a);
    static char recv_data[1 << 20];

    for (int i = 0; i < 5; i++) {
        double start = now_ms();
        demo_send(&t, conn, commands[i], strlen(commands[i])); /* phone.send(cmd) */

        char header[4];
        int32_t total_size;
        demo_recv(&t, conn, header, 4);          /* header = phone.recv(4) */
        memcpy(&total_size, header, 4);          /* struct.unpack('i', header)[0] */
        if (total_size < 0 || (size_t)total_size > sizeof recv_data) {
            demo_fact("client", "garbage_length", "%ld", (long)total_size);
            demo_say("client", "The header of %s decodes as %ld: those 4 bytes, %s, are the rest "
                               "of the previous answer. The notes' client would now wait forever "
                               "for that many bytes; we stop here.",
                     demo_escape(commands[i], strlen(commands[i]), 0), (long)total_size,
                     demo_escape(header, 4, 1));
            shutdown(conn, SHUT_WR); /* a clean close: let the server see EOF ... */
            while (recv(conn, recv_data, sizeof recv_data, 0) > 0)
                ;                    /* ... and discard the rest, instead of a reset */
            return 0;
        }
        if (i == 0) {
            demo_fact("client", "header_in_other_byte_order", "%lu",
                      (unsigned long)swap((uint32_t)total_size));
            demo_say("client", "struct.pack('i') used this machine's byte order: a peer with the "
                               "other order would read this header as %lu, not %ld.",
                     (unsigned long)swap((uint32_t)total_size), (long)total_size);
        }
        /* Read once the whole answer is here, so every recv(1024) below returns
         * as much as it can, as on any fast network; the bug does not need luck. */
        demo_wait_queued(&t, conn, (size_t)total_size);

        long recv_size = 0, got = 0;
        while (recv_size < total_size) {          /* the notes' loop, as written */
            got += (long)demo_recv(&t, conn, recv_data + got, 1024);
            recv_size += got;                     /* += len(recv_data) */
        }
        char name[32];
        snprintf(name, sizeof name, "command_%d_ms", i + 1);
        demo_fact("client", name, "%.2f", now_ms() - start); /* shown, never asserted */
        if (got < total_size) {
            demo_fact("client", "bytes_left_unread", "%ld", total_size - got);
            demo_say("client", "The loop stopped at recv_size %ld with only %ld of %ld bytes read: "
                               "%zu bytes of this answer wait unread for the next command.",
                     recv_size, got, (long)total_size, demo_queued(conn));
        }
    }
    demo_say("client", "(unreachable: the last header should have been garbage)");
    return 1;
}
