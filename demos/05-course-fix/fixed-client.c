/*
 * Demo 5, fixed: the same commands and the same recv(1024), with the loop
 * corrected - count the bytes of each recv, and never ask for more than the
 * answer still owes:
 *     while recv_size < total_size:
 *         data = phone.recv(min(1024, total_size - recv_size))
 *         recv_size += len(data)
 */
#include "demo.h"
#include "frame.h"
#include "timing.h"

#include <stdio.h>
#include <string.h>

#define USAGE "usage: 05-course-fix-fixed-client --port N [--host ADDR] [--full] [--sync]"


/* recv_exactly - recv until n bytes are in (each recv may return fewer). */
static void recv_exactly(struct trace *t, int conn, unsigned char *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        size_t left = n - got;
        size_t k = demo_recv(t, conn, buf + got, left < 1024 ? left : 1024);
        if (k == 0)
            demo_die("the server closed the connection mid-answer");
        got += k; /* this recv's bytes, not all so far */
    }
}

/* refuse_header - a length above our limit: say what the 4 bytes look like
 * and exit. A server of the notes (struct.pack('i')) sends this machine's
 * byte order: read in network byte order, as this client does, 8 becomes
 * 134217728 on a little-endian machine. */
static void refuse_header(const unsigned char *header, size_t limit)
{
    uint32_t other = (uint32_t)header[3] << 24 | (uint32_t)header[2] << 16 |
                     (uint32_t)header[1] << 8 | header[0];
    char why[200];

    if (other <= limit)
        demo_die("the header %s reads as %lu in network byte order (this client expects "
                 "struct.pack('!I', n)), but as %lu in the other order: the server sends "
                 "struct.pack('i', n), the notes' header, in this machine's byte order",
                 demo_escape(header, FRAME_HEADER_SIZE, 1),
                 (unsigned long)frame_get_length(header), (unsigned long)other);
    frame_describe_length(why, sizeof why, frame_get_length(header), FRAME_HEADER_SIZE,
                          (uint32_t)limit);
    demo_die("not an answer header: %s (this client expects struct.pack('!I', n))", why);
}

/* ask - one command: its header, then exactly that many bytes, one whole message. */
static void ask(struct trace *t, int conn, const char *command)
{
    static unsigned char answer[1 << 20];
    unsigned char header[FRAME_HEADER_SIZE];

    demo_send(t, conn, command, strlen(command));
    recv_exactly(t, conn, header, sizeof header);
    uint32_t total_size = frame_get_length(header); /* struct.unpack('!I', header)[0] */
    if (total_size > sizeof answer)
        refuse_header(header, sizeof answer);
    demo_wait_queued(conn, total_size); /* the same conditions as the broken client */
    recv_exactly(t, conn, answer, total_size);
    demo_message(t, answer, total_size);
}

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace(1, &a);
    demo_expect_frames(&t); /* the answers are frames: recv lines say where the headers are */

    for (int i = 0; i < TRACED_SHORT_COMMANDS; i++)
        ask(&t, conn, SHORT_COMMAND);
    ask(&t, conn, DEMO_LONG_COMMAND); /* 2600 bytes, whole */
    ask(&t, conn, "echo hi");         /* and the next answer is its own */
    demo_close(conn);

    conn = demo_connect(&a, 2);       /* the same short command, timed */
    median_ms(conn, frame_get_length);
    demo_close(conn);

    conn = demo_connect(&a, 3);       /* 4000 bytes, whole */
    t = demo_trace(3, &a);
    demo_expect_frames(&t);
    ask(&t, conn, COMMAND_4000);
    demo_close(conn);
    demo_say("Every answer whole and its own; compare the median time per command with the "
             "broken run's.");
    return 0;
}
