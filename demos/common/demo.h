/*
 * demo.h - the plumbing every demo shares, so each demo's server.c and
 * client.c show only their lesson.
 *
 * These are program helpers, not library code: on any error they print a
 * clear message to stderr and exit(1), as the capitalised wrappers in
 * Stevens' UNP do. (The library in solution/ returns its errors.)
 *
 * Every send and recv a demo makes is printed as one stable line (trace.c):
 *
 *   client | send #1 | conn 1 | at 0 | 5 bytes | "hello"
 *   server | recv #1 | conn 1 | at 0 | 10 bytes | "helloworld" | asked 1024
 *
 * "at" is the offset of those bytes in the connection's byte stream. A send
 * line is printed just before the send() and a recv line just after the
 * recv(), so when both programs share one terminal, every recv line comes
 * after the send lines whose bytes it returned. harness/demolib.py parses
 * these lines and the fact lines; every other line is for people.
 */
#ifndef DEMO_H
#define DEMO_H

#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

/* The long command of demos 4 and 5: the same 2600 bytes on every machine
 * (100 lines of 26), unlike ifconfig. Their expect.py files spell it too. */
#define DEMO_LONG_COMMAND "awk 'BEGIN { for (i = 1; i <= 100; i++) " \
                          "printf \"line %03d of a long output\\n\", i }'"
#define DEMO_LONG_OUTPUT_SIZE 2600

/* Demos 1-3: the client sends these two words, and the servers wait for both. */
#define DEMO_HELLO "hello"
#define DEMO_WORLD "world"
#define DEMO_WORDS_SIZE (sizeof DEMO_HELLO - 1 + sizeof DEMO_WORLD - 1) /* 10 bytes */

/*
 * Command-line options shared by all demo programs.
 *
 * How a demo makes its timing certain is up to the peer it meets:
 *   --sync    both sides are the suite's programs (the harness passes it to
 *             both): a second connection tells each side when the other has
 *             done its part, and FIONREAD waits must succeed. Every run is the
 *             same.
 *   (none)    the peer may be anyone's program (the course's, a student's):
 *             no second connection; FIONREAD waits give up after a few
 *             seconds and the program reads what is there, then says which
 *             case happened.
 *   --live    wait for nothing: read as soon as a naive program would, so
 *             that what one recv returns is up to the timing of the moment.
 */
struct demo_args {
    const char *host; /* --host, default 127.0.0.1 */
    int port;         /* --port, default 0 (server: pick a free port) */
    int full;         /* --full: print every byte, never abbreviate */
    long pause_ms;    /* --pause-ms, for demos that pause between sends */
    int sync;         /* --sync */
    int live;         /* --live */
    int rcvbuf;       /* server: SO_RCVBUF of the listening socket, set before
                       * any client can connect (0 or less: the system's own) */
    int patience_s;   /* --patience: no wait longer than this (0: the defaults) */
    int step;         /* --step: before every recv, say what waits and wait for a
                       * line on stdin (rundemo.py's step mode: Enter, on a terminal) */
};

#define DEMO_WANTS_PAUSE 1  /* flag for demo_parse_args: accept --pause-ms */
#define DEMO_WANTS_RCVBUF 2 /* ... and --rcvbuf BYTES (0: the system's own buffer) */
#define DEMO_RUNS_COMMANDS 4 /* a server that runs the commands it is sent (the course's
                              * insecure one, on purpose): its listening line says so, and
                              * it warns when its address is not loopback */

/*
 * demo_parse_args - parse --host, --port, --full (and --pause-ms when flags
 * has DEMO_WANTS_PAUSE, --rcvbuf when it has DEMO_WANTS_RCVBUF). --help prints usage and exits 0; a bad option
 * prints usage and exits 2. A client without --port exits with a hint.
 * It also notes, once, which side this program is: a program whose name
 * ends in "server" is the server, any other the client.
 */
struct demo_args demo_parse_args(int argc, char **argv, const char *usage,
                                 int flags, long default_pause_ms);

/* demo_side - "server" or "client", as demo_parse_args found it. */
const char *demo_side(void);

/* demo_sync_mode, demo_live_mode, demo_step_mode - was --sync (--live, --step) given? */
int demo_sync_mode(void);
int demo_live_mode(void);
int demo_step_mode(void);

/* demo_readable - wait up to seconds for fd to become readable; 1 if it did. */
int demo_readable(int fd, int seconds);

/*
 * demo_say - print one line for people: "side: text". The text is in the
 * reader's language: with DEMO_LANG=zh (or a LANG/LC_ALL starting with zh)
 * the format is looked up in lang/zh.txt (compiled in) and its translation,
 * with the same conversions, is used. demo_die too.
 */
void demo_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* demo_say_as_is - demo_say, never translated: the lines the harness reads
 * (listening on, accepted conn, connected conn, the [sync] markers) and
 * what stands for the course's own print() (recv_size = 8). */
void demo_say_as_is(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* demo_columns - the terminal columns text (UTF-8) takes: a Chinese
 * character two. demo_pad - text padded with spaces to width columns, on
 * the right (right = 0) or the left (right = 1); a static buffer, eight
 * results can be used in one call. */
int demo_columns(const char *text);
const char *demo_pad(const char *text, int width, int right);

/* demo_tr - a sentence (or a label a sentence prints with %s) in the reader's
 * language. N_ marks such a string where it is written, so that the
 * translation test finds it. */
const char *demo_tr(const char *english);
#define N_(english) (english)

/* demo_line_begin, demo_line_end - around the printf calls of one line
 * (demo_say, demo_fact and the trace lines do it): the line is flushed at
 * the end, whole, and never mixed with the peer's lines on a shared pipe
 * (see DEMO_OUTPUT_LOCK in demo.c). */
void demo_line_begin(void);
void demo_line_end(void);

/* demo_fact - print one measured value for the harness's rules:
 *   client | fact | name = value                                     */
void demo_fact(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* demo_die - print "side: error: text" to stderr and exit(1). */
void demo_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* demo_pause_ms - sleep ms milliseconds (EINTR-safe). Used only where the
 * course itself pauses; never to make a demo's timing come out right. */
void demo_pause_ms(long ms);

/*
 * demo_pause_between_sends - the client's pause between two sends: --pause-ms
 * (0 where a demo has none). With --live, a pause drawn afresh each run
 * between 1 us and DEMO_LIVE_GAP_US (as many runs under 32 us as over),
 * printed as the fact gap_us: whether a
 * reader sees the sends merged depends on that gap against how soon it
 * reads, and a class sees it decide, run by run.
 */
void demo_pause_between_sends(const struct demo_args *a);

#define DEMO_LIVE_GAP_US 2048

/* demo_now_ms - a clock in milliseconds that never jumps (CLOCK_MONOTONIC). */
double demo_now_ms(void);

/* demo_listen - listen on host:port and print "server: listening on HOST:PORT". */
int demo_listen(const struct demo_args *a);

/* demo_accept - accept one connection; prints a line naming it. Connection 1
 * may wait for a person to start the client (DEMO_WAIT_PERSON_S); a later
 * one must come within DEMO_WAIT_S, or the program says so and exits. */
int demo_accept(int listen_fd, int conn);

/* demo_try_accept - the same, but after seconds without a connection it
 * returns -1 instead (a client that makes fewer connections than ours). */
int demo_try_accept(int listen_fd, int conn, int seconds);

#define DEMO_WAIT_S 10          /* the longest any demo waits for its peer */
#define DEMO_WAIT_PERSON_S 600  /* ... or for a person: a client started, a command typed */

/* demo_patience - seconds, or less if --patience asks for shorter waits. */
int demo_patience(int seconds);

/* demo_connect - connect to the server; prints a line naming the connection. */
int demo_connect(const struct demo_args *a, int conn);

/* demo_try_connect - the same, but returns -1 (printing nothing) if the
 * server refuses: one that serves a single connection has gone. */
int demo_try_connect(const struct demo_args *a, int conn);

/* demo_close - close our side and wait (a few seconds at most) until the
 * peer has closed its side too, so that it has read everything we sent. */
void demo_close(int fd);

/*
 * The sync connection (--sync only): a second TCP connection, used only to
 * make a demo deterministic (e.g. "the server has read hello, you may send
 * world"). It never carries the bytes under study. The client opens it
 * first and the server confirms it, so neither side can mistake one for the
 * other. Without --sync these return -1, and posting to or waiting on -1
 * does nothing: a program then works with any peer, a little less surely.
 */
int demo_accept_sync(const struct demo_args *a, int listen_fd);
int demo_connect_sync(const struct demo_args *a);

/* demo_sync_post - tell the peer that `what` has happened (prints a line). */
void demo_sync_post(int sync_fd, const char *what);

/* demo_sync_wait - wait until the peer posts; prints what we waited for. */
void demo_sync_wait(int sync_fd, const char *what);

/* ---- the trace: one line per send, recv and message (trace.c) ---- */

/* One connection's byte stream, as seen from one side. */
struct trace {
    int conn;         /* connection number, from 1 */
    int wait_s;       /* the longest a recv waits for bytes (DEMO_WAIT_S; a
                       * server that waits for a person's next command: more) */
    int full;         /* print every byte */
    int quiet;        /* print no lines for this connection (a demo that times
                       * many calls says so in one line instead) */
    int sends, recvs; /* how many calls so far */
    int messages;     /* how many whole messages delivered */
    long sent, rcvd;  /* stream offsets: bytes sent and received so far */
    int frames_in;    /* the bytes that come in are frames: recv lines note their headers */
    long next_header; /* frames_in: where in the stream the next header starts */
    unsigned char header[4]; /* frames_in: the bytes of a header a recv cut, so far */
    int header_have;
};

struct trace demo_trace(int conn, const struct demo_args *a);

/*
 * demo_expect_frames - what comes in on this connection is frames: from now
 * on each recv line says where their headers are and what lengths they hold,
 * after the bytes:  "\x00\x00\x00\x05hello" [len 5]
 * (a recv that ends inside a header says "header 1/4 ...", the next one
 * "... header: len 5").
 */
void demo_expect_frames(struct trace *t);

/* demo_trace_line - print one send, recv or message line (the format above),
 * for a call the functions below do not make (a UDP datagram, say). at < 0:
 * no offset; asked 0: no size asked; note: NULL or a note for people. Without
 * --full the line fits TRACE_WIDTH columns: long data shows head ... tail. */
#define TRACE_WIDTH 100
void demo_trace_line(const struct trace *t, const char *op, int num, long at,
                     const void *buf, size_t n, size_t asked, const char *note);

/* demo_send - print a send line, then send all n bytes (one send() call
 * unless the kernel takes fewer bytes, which is reported). */
void demo_send(struct trace *t, int fd, const void *buf, size_t n);

/* demo_recv - one recv(fd, buf, cap, 0), exactly as a course would write it;
 * prints the bytes it returned. Returns that count (0 means the peer closed).
 * If nothing comes for t->wait_s seconds, it says so and exits (1); if the
 * peer resets the connection, it says so and exits (0: the peer is gone, as
 * demo_send does when a send finds it gone). */
size_t demo_recv(struct trace *t, int fd, void *buf, size_t cap);

/* demo_finish - the end of a client's last connection: close our side, then
 * wait (a few seconds at most) for the peer's close. A peer that never read
 * what we sent and has gone (a server that served one connection and exited
 * while this one waited to be accepted) answers with a reset: it says so and
 * exits (0), as demo_send and demo_recv do. */
void demo_finish(const struct trace *t, int fd);

/* demo_send_frame - print a send line for the whole frame (4-byte length,
 * then body), then send it with send_frame: header and body in one call. */
void demo_send_frame(struct trace *t, int fd, const void *body, size_t n);

/* demo_message - print one message that the receiver delivered whole:
 *   server | message #1 | conn 1 | 5 bytes | "hello"               */
void demo_message(struct trace *t, const void *body, size_t n);

struct frame_reader;

/* demo_deliver - hand what one recv returned to the frame reader, then print
 * every message it completed. Returns how many. The whole fix, on the
 * receiving side, is this loop:
 *     frame_reader_push(r, buf, n);
 *     while (frame_reader_next(r, &body, &len) == FRAME_OK)
 *         use(body, len);                                              */
int demo_deliver(struct trace *t, struct frame_reader *r, const void *buf, size_t n);

/* demo_die_bad_frame - the reader refused what arrived (status from
 * frame_reader_next): say what it looks like, what we expected, and exit. */
void demo_die_bad_frame(const struct frame_reader *r, int status) __attribute__((noreturn));

/*
 * demo_wait_queued - wait until FIONREAD says at least n bytes are waiting
 * in fd's receive buffer (polling every millisecond). This is how a demo
 * makes sure several sends have all arrived before it reads. With --sync it
 * waits up to DEMO_WAIT_S and dies if they do not come; without, it gives
 * up after DEMO_SOFT_WAIT_MS and says so; with --live it does not wait.
 * Returns how many bytes are waiting.
 */
size_t demo_wait_queued(int fd, size_t n);

#define DEMO_SOFT_WAIT_MS 3000

/* demo_queued - how many bytes wait unread in fd's receive buffer (FIONREAD). */
size_t demo_queued(int fd);

/* demo_escape - the bytes as a C-style string literal ("a\n\x00"); long data
 * is abbreviated to its head and tail unless full. Returns a static buffer,
 * valid until four more calls. */
const char *demo_escape(const void *buf, size_t n, int full);

#endif
