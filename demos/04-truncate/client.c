/*
 * Demo 4, truncate: the course's SSH client reads each answer with one
 * recv(1024). An answer longer than that is cut, and its rest comes out as
 * the answer to the next command.
 */
#include "demo.h"

#include <string.h>
#include <sys/socket.h>

#define USAGE "usage: 04-truncate-client --port N [--host ADDR] [--full] [--sync|--live]"

/* The long command prints 2600 bytes (demo.h); recv(1024) reads only 1024 of them. */
static const char *commands[] = {DEMO_LONG_COMMAND, "echo hello", "echo world"};

static void read_the_rest(struct trace *t, int conn);
static void say_what_happened(size_t left_over, const char *last, size_t n);

int main(int argc, char **argv)
{
    struct demo_args a = demo_parse_args(argc, argv, USAGE, 0, 0);
    int sync = demo_connect_sync(&a);
    int conn = demo_connect(&a, 1);
    struct trace t = demo_trace(1, &a);
    char answer[1024];
    size_t left_over = 0, n = 0;

    for (int i = 0; i < 3; i++) {
        demo_send(&t, conn, commands[i], strlen(commands[i])); /* client.send(cmd) */
        /* Read only once the server has sent its whole answer, so every run shows
         * the same bytes; a real client that reads sooner is no better off. */
        demo_sync_wait(sync, N_("the whole answer is sent"));
        n = demo_recv(&t, conn, answer, sizeof answer); /* data = client.recv(1024) */
        size_t queued = demo_queued(conn);
        demo_say("answer to %s begins %s; %zu more bytes wait unread",
                 demo_escape(commands[i], strlen(commands[i]), 0),
                 demo_escape(answer, n < 20 ? n : 20, 1), queued);
        if (i == 0) {
            left_over = queued;
            demo_fact("unread_after_answer_1", "%zu", queued); /* 2600 - 1024 here */
        }
    }
    if (a.live) /* read the rest, to see how the stream was cut this time */
        read_the_rest(&t, conn);
    say_what_happened(left_over, answer, n);
    demo_close(conn); /* a close with bytes unread would reset the connection */
    return 0;
}

/* read_the_rest - "no more commands" (a half-close), then every byte still coming. */
static void read_the_rest(struct trace *t, int conn)
{
    char buf[4096];

    shutdown(conn, SHUT_WR);
    while (demo_recv(t, conn, buf, sizeof buf) > 0)
        ;
}

/* has - does the answer hold these bytes? */
static int has(const char *answer, size_t n, const char *text)
{
    for (size_t k = strlen(text), i = 0; i + k <= n; i++)
        if (memcmp(answer + i, text, k) == 0)
            return 1;
    return 0;
}

/* say_what_happened - the lesson, and which case this run was (for live runs):
 * what the answer shown for the third command held besides old bytes. */
static void say_what_happened(size_t left_over, const char *last, size_t n)
{
    int hello = has(last, n, "hello\n"), world = has(last, n, "world\n");

    demo_fact("outcome", "answer 3: old bytes%s%s", hello ? " + hello" : "",
              world ? " + world" : "");
    if (left_over > 0) {
        demo_say("recv(1024) cut the first answer at 1024 bytes; its other %zu waited in the "
                 "receive buffer,", left_over);
        demo_say("so the next command got the rest of the first: TCP does not know where an "
                 "answer ends.");
    }
}
