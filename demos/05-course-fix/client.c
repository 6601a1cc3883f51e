/*
 * Demo 5, the course's own fix, ported faithfully. The receive loop is the
 * notes' own:
 *     while recv_size < total_size:
 *         data = client.recv(1024)
 *         recv_data += data
 *         recv_size += len(recv_data)      # all received so far, not this recv
 *         print(recv_size)
 * It works for short answers. Its flaws: every command waits for a delayed
 * ACK (three sends), and every answer over 2048 bytes is cut short: after k
 * full recvs recv_size is 1024 * (1 + 2 + ... + k), which passes the answer's
 * length long before 1024 * k bytes do.
 */
#include "demo.h"
#include "timing.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define USAGE "usage: 05-course-fix-client --port N [--host ADDR] [--full] [--sync]"
#define MAX_ANSWER (1 << 20) /* a longer "length" is taken for garbage */

enum answer { WHOLE, CUT, GARBAGE };

static enum answer ask(struct trace *t, int conn, const char *command);
static uint32_t native_length(const unsigned char *header);
static void say_byte_order(int32_t total);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace(1, &a);

    for (int i = 0; i < TRACED_SHORT_COMMANDS; i++) /* a short answer: the fix works */
        ask(&t, conn, SHORT_COMMAND);
    if (ask(&t, conn, DEMO_LONG_COMMAND) == CUT)  /* 2600 bytes: read short */
        ask(&t, conn, "echo hi");                 /* its header: old output */
    demo_close(conn);

    conn = demo_connect(&a, 2);                   /* short answers, timed: slowly */
    median_ms(conn, native_length);
    demo_close(conn);

    conn = demo_connect(&a, 3);                   /* a second size: 4000 bytes */
    t = demo_trace(3, &a);
    demo_say("conn 3: a second long answer, 4000 bytes, read by the same loop");
    ask(&t, conn, COMMAND_4000);                  /* read short too */
    demo_close(conn);
    return 0;
}

/* native_length - struct.unpack('i', header)[0]: this machine's byte order. */
static uint32_t native_length(const unsigned char *header)
{
    int32_t total;
    memcpy(&total, header, 4);
    return (uint32_t)total;
}

/* swap - the same 4 bytes read in the other byte order */
static uint32_t swap(uint32_t v)
{
    return v >> 24 | (v >> 8 & 0xff00) | (v << 8 & 0xff0000) | v << 24;
}

/*
 * ask - one command, read as the notes' client reads it: recv(4) for the
 * header, then recv(1024) while recv_size < total_size. Says what went wrong.
 */
static enum answer ask(struct trace *t, int conn, const char *command)
{
    static char recv_data[MAX_ANSWER];
    char header[4];
    int32_t total_size;

    demo_send(t, conn, command, strlen(command)); /* client.send(cmd.encode('GBK')) */
    demo_recv(t, conn, header, 4);                /* header = client.recv(4) */
    memcpy(&total_size, header, 4);               /* struct.unpack('i', header)[0] */
    if (total_size < 0 || total_size > MAX_ANSWER) {
        demo_fact("garbage_length", "%ld", (long)total_size);
        demo_say("The header %s reads as %ld: it is 4 bytes of the previous answer.",
                 demo_escape(header, 4, 1), (long)total_size);
        demo_say("The notes' client would wait for that many bytes for ever; we stop.");
        return GARBAGE;
    }
    if (t->conn == 1 && t->recvs == 1)
        say_byte_order(total_size);
    /* Read once the whole answer is here, so every recv(1024) below returns
     * as much as it can, as on any fast network; the bug does not need luck. */
    demo_wait_queued(conn, (size_t)total_size);

    long recv_size = 0, got = 0;
    while (recv_size < total_size) {              /* the notes' loop, as written */
        got += (long)demo_recv(t, conn, recv_data + got, 1024);
        recv_size += got;                         /* += len(recv_data) */
        demo_say_as_is("recv_size = %ld", recv_size); /* print(recv_size) */
    }
    if (got == total_size)
        return WHOLE;
    demo_fact(t->conn == 1 ? "bytes_left_unread" : "bytes_left_unread_4000", "%ld",
              total_size - got);
    demo_say("recv_size %ld >= %ld ended the loop at %ld of %ld bytes; %ld wait for the next "
             "command.", recv_size, (long)total_size, got, (long)total_size, total_size - got);
    return CUT;
}

/* say_byte_order - what a peer with the other byte order would read. */
static void say_byte_order(int32_t total)
{
    unsigned long other = (unsigned long)swap((uint32_t)total);

    demo_fact("header_in_other_byte_order", "%lu", other);
    demo_say("struct.pack('i') used this machine's byte order: the other order reads %ld as "
             "%lu.", (long)total, other);
}
