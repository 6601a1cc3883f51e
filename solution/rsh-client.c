/*
 * rsh-client.c - the remote shell's client, like `ssh host cmd`.
 *
 *   rsh-client [--host ADDR] [--port N] [--token-file PATH] COMMAND...
 *   rsh-client [--host ADDR] [--port N] [--token-file PATH]   (commands from stdin)
 *
 * With COMMAND, its stdout and stderr come out on ours, byte for byte, and
 * we exit with its status (128+N if signal N killed it; 255 for a
 * connection or protocol error). Without, each line of stdin is a command;
 * on a terminal we prompt and wait for each answer, otherwise we pipeline:
 * commands go out while answers come back, which turns 1000 round trips
 * into a few. The answers arrive in order, each ended by its 'X' frame, so
 * no answer can run into the next one, however the bytes are split.
 *
 * The first frame proves we are the server's user: its token, read from the
 * file only that user can read (rsh-proto.h). The token file is found by
 * the port, and only for a server on this machine: a token is never sent
 * to another host unless --token-file names it.
 *
 * One poll() loop watches stdin and the socket. The socket is non-blocking
 * for sending: if we blocked in send() while the server blocked sending us
 * answers we do not read, both would wait forever once the TCP buffers
 * between us are full.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "args.h"
#include "frame.h"
#include "net.h"
#include "outq.h"
#include "rsh-proto.h"

#define EXIT_TROUBLE 255           /* as ssh: the connection failed, not the command */
#define PENDING_BOUND (256 * 1024) /* stop reading stdin while this much is unsent */
#define STDIN_CHUNK (64 * 1024)
#define PROMPT ">>: "
#define SILENCE_S 5 /* a server silent this long with a command waiting gets a note */

#define USAGE                                                                        \
    "usage: rsh-client [--host ADDR] [--port N] [--token-file PATH] [COMMAND...]\n"  \
    "With COMMAND, run it on the server, print its output and exit with its\n"        \
    "status. Without, read commands from stdin, one per line (a line longer than\n"   \
    "65536 bytes is skipped, and said so).\n"                                         \
    "  --host ADDR         server address (default 127.0.0.1)\n"                      \
    "  --port N            server port (default 8081)\n"                              \
    "  --token-file PATH   the server's token (default, for a server on this\n"       \
    "                      machine: $XDG_RUNTIME_DIR/rsh/token-PORT, or\n"            \
    "                      /tmp/rsh-UID/token-PORT, which the server writes)\n"       \
    "Exit status: the command's; 128+N if signal N killed it; 255 if the\n"           \
    "connection failed or the server refused (its reason is printed).\n"

struct session {
    int sock;
    struct frame_reader answers; /* frames from the server */
    struct outq pending;         /* command frames the socket has not taken yet */
    char *line;                  /* stdin bytes of a line not ended yet */
    size_t line_len, line_cap;
    unsigned long line_no;
    int skipping;                /* the line being read is too long: up to its '\n' */
    int last_rejected;           /* the last line was skipped: exit 255, not 0 */
    int send_error;              /* errno of a failed send: read what the server said */
    int reading_stdin;           /* commands still come from stdin */
    int interactive;             /* stdin is a terminal: prompt, one at a time */
    int prompt_shown;
    unsigned long sent, answered; /* commands queued, and 'X' frames received */
    int heard;                   /* the server has sent at least one byte */
    int silence_noted;           /* we said once that it has not */
    int last_status;             /* exit code for the last answered command */
};

/* die - print "rsh-client: ..." and exit 255: the command's own status is
 * unknown, and 255 is what ssh uses to say so. */
__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("rsh-client: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_TROUBLE);
}

/* ensure_std_fds - make sure 0, 1 and 2 are open (on /dev/null if not).
 * Started with one of them closed, we would get it for the socket, and
 * every byte of output written "to stdout" would go to the server as a
 * command. */
static void ensure_std_fds(void)
{
    int fd;

    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
        ;
    if (fd > 2)
        close(fd);
}

/* --------------------------------------------------------------- connecting */

/* connect_to - a TCP connection to host:port; dies with a clear message. */
static int connect_to(const char *host, int port)
{
    char err[NET_ERR_LEN];
    int fd = net_connect(err, host, port);

    /* Every frame is handed to send() whole; Nagle could only delay it.
     * Non-blocking for sending: see the top of this file. */
    if (fd < 0 || net_set_nodelay(err, fd, 1) < 0 || net_set_nonblock(err, fd, 1) < 0)
        die("%s", err);
    return fd;
}

/*
 * queue_token - the 'A' frame goes first. Without --token-file, the token
 * file is looked for by port, and only for a server on this machine. A
 * file that cannot be trusted is not used (we say why); a server that
 * wants a token then says so in a '!' frame, and we exit 255 with it.
 */
static void queue_token(struct session *s, const char *token_file, int port)
{
    char err[RSH_AUTH_ERR_LEN], path[RSH_PATH_LEN], token[RSH_TOKEN_HEX + 1];
    int rc;

    if (token_file != NULL) {
        snprintf(path, sizeof path, "%s", token_file);
    } else if (!net_peer_is_loopback(s->sock)) {
        return;
    } else if (rsh_token_path(err, path, sizeof path, port) < 0) {
        die("%s", err);
    }
    rc = rsh_token_read(err, path, token_file == NULL, token);
    if (rc == 0 && token_file != NULL)
        fprintf(stderr, "rsh-client: %s: no such file; sending no token\n", path);
    if (rc < 0)
        fprintf(stderr, "rsh-client: %s; sending no token\n", err);
    if (rc == 1 && outq_put_frame(&s->pending, RSH_AUTH, token, RSH_TOKEN_HEX) < 0)
        die("out of memory");
}

/* ----------------------------------------------------------- sending commands */

/* queue_command - append one 'C' frame to the send queue. */
static void queue_command(struct session *s, const char *text, size_t len)
{
    if (len > RSH_MAX_COMMAND)
        die("command %lu is %zu bytes long; the limit is %d", s->sent + 1, len,
            RSH_MAX_COMMAND);
    if (outq_put_frame(&s->pending, RSH_COMMAND, text, len) < 0)
        die("out of memory");
    s->sent++;
    s->prompt_shown = 0;
}

/* send_pending - send what the socket takes now; the rest waits for POLLOUT.
 * A server that refuses us (busy, no token) closes after a '!' frame: a send
 * may fail before we have read it. Keep reading, and let that frame speak. */
static void send_pending(struct session *s)
{
    if (s->send_error == 0 && outq_send(&s->pending, s->sock) < 0)
        s->send_error = errno;
    if (s->send_error != 0)
        outq_free(&s->pending); /* nothing more can go */
}

/* reject_line - a line over the limit cannot be a command: say so, skip it,
 * and go on with the next ones (commands already sent keep running). */
static void reject_line(struct session *s, unsigned long line_no)
{
    fprintf(stderr, "rsh-client: line %lu is longer than %d bytes: skipped\n", line_no,
            RSH_MAX_COMMAND);
    s->last_rejected = 1;
}

/* take_line - one line of stdin is one command; empty lines are skipped. */
static void take_line(struct session *s, const char *line, size_t len)
{
    s->line_no++;
    s->prompt_shown = 0; /* an empty line gets a new prompt, as in a shell */
    if (len > RSH_MAX_COMMAND) {
        reject_line(s, s->line_no);
    } else if (len > 0) {
        queue_command(s, line, len);
        s->last_rejected = 0;
    }
}

/* add_to_line - keep bytes of a line that has not ended yet. */
static void add_to_line(struct session *s, const char *p, size_t n)
{
    if (s->skipping)
        return;
    if (s->line_len + n > RSH_MAX_COMMAND) {
        reject_line(s, s->line_no + 1);
        s->skipping = 1;
        s->line_len = 0;
        return;
    }
    if (s->line == NULL && (s->line = malloc(RSH_MAX_COMMAND)) == NULL)
        die("out of memory");
    memcpy(s->line + s->line_len, p, n);
    s->line_len += n;
}

/* end_line - the line kept by add_to_line has ended. */
static void end_line(struct session *s)
{
    if (s->skipping) {
        s->skipping = 0;
        s->line_no++;
        s->prompt_shown = 0;
    } else {
        take_line(s, s->line, s->line_len);
    }
    s->line_len = 0;
}

/*
 * read_commands - one read() of stdin, cut into lines. A read returns
 * whatever is there: several lines, or half of one; the unfinished end is
 * kept for the next read (the same problem as frames, solved with '\n').
 */
static void read_commands(struct session *s)
{
    char buf[STDIN_CHUNK];
    ssize_t n = read(0, buf, sizeof buf);
    size_t from = 0;

    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n < 0)
        die("reading stdin: %s", strerror(errno));
    if (n == 0) { /* EOF: a last line without '\n' is still a command */
        s->reading_stdin = 0;
        if (s->line_len > 0 || s->skipping)
            end_line(s);
        return;
    }
    for (size_t i = 0; i < (size_t)n; i++) {
        if (buf[i] != '\n')
            continue;
        if (s->line_len == 0 && !s->skipping) { /* the whole line is in buf */
            take_line(s, buf + from, i - from);
        } else {
            add_to_line(s, buf + from, i - from);
            end_line(s);
        }
        from = i + 1;
    }
    if (from < (size_t)n)
        add_to_line(s, buf + from, (size_t)n - from);
}

/* --------------------------------------------------------- reading answers */

/* write_output - copy command output to our stdout or stderr. If our
 * stdout is a pipe whose reader has gone (`rsh-client cmd | head`), die of
 * SIGPIPE as a local command would. */
static void write_output(int fd, const unsigned char *p, size_t n)
{
    if (write_all(fd, p, n) == 0 || fd == 2)
        return;
    if (errno == EPIPE) {
        signal(SIGPIPE, SIG_DFL);
        raise(SIGPIPE);
    }
    die("writing stdout: %s", strerror(errno));
}

/* show_error_text - the '!' frame's text, with unprintable bytes escaped:
 * it comes from the network and goes to a terminal. */
static void show_error_text(const unsigned char *p, size_t n)
{
    fputs("rsh-client: server error: ", stderr);
    for (size_t i = 0; i < n && i < 1000; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f)
            fputc(p[i], stderr);
        else if (!(p[i] == '\n' && i == n - 1))
            fprintf(stderr, "\\x%02x", p[i]);
    }
    fputc('\n', stderr);
}

/* handle_answer - act on one frame from the server. */
static void handle_answer(struct session *s, const unsigned char *body, uint32_t len)
{
    char type;

    if (len == 0)
        die("protocol error: the server sent an empty frame (length 0)");
    type = (char)body[0];
    if (type == RSH_ERROR) {
        show_error_text(body + 1, len - 1);
        exit(EXIT_TROUBLE);
    }
    if (type != RSH_STDOUT && type != RSH_STDERR && type != RSH_EXIT) {
        if (body[0] >= 0x20 && body[0] < 0x7f)
            die("protocol error: unknown message type '%c' from the server", type);
        die("protocol error: unknown message type 0x%02x from the server", body[0]);
    }
    if (s->answered == s->sent)
        die("protocol error: the server answered a command we did not send");
    if (type == RSH_STDOUT) {
        write_output(1, body + 1, len - 1);
    } else if (type == RSH_STDERR) {
        write_output(2, body + 1, len - 1);
    } else {
        if (len != 1 + RSH_STATUS_SIZE)
            die("protocol error: an 'X' frame of length %lu, not %d", (unsigned long)len,
                1 + RSH_STATUS_SIZE);
        s->last_status = rsh_exit_code(rsh_get_status(body + 1));
        s->answered++;
    }
}

/* read_answers - one recv() into the frame reader, then every whole frame
 * in it: one recv() may hold many small frames, or a piece of a big one. */
static void read_answers(struct session *s)
{
    const unsigned char *body;
    uint32_t len;
    ssize_t n = frame_reader_fill(&s->answers, s->sock);
    int rc;
    char reason[160];

    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n < 0)
        die("reading from the server: %s%s%s", strerror(errno),
            s->send_error ? "; sending: " : "", s->send_error ? strerror(s->send_error) : "");
    s->heard = s->heard || n > 0;
    while ((rc = frame_reader_next(&s->answers, &body, &len)) == FRAME_OK)
        handle_answer(s, body, len);
    if (rc == FRAME_TOO_BIG) {
        rsh_describe_length(reason, sizeof reason, &s->answers, RSH_MAX_REPLY);
        die("protocol error: %s", reason);
    }
    if (n == 0) {
        if (frame_reader_at_eof(&s->answers) == FRAME_TRUNCATED)
            die("the server closed the connection in the middle of a frame");
        if (s->answered < s->sent)
            die("the server closed the connection before command %lu finished%s",
                s->answered + 1, s->heard ? "" : " (without a byte: is it an rsh-server?)");
        die("the server closed the connection");
    }
}

/* ----------------------------------------------------------------- the loop */

/* want_stdin - read another command now? On a terminal only when the last
 * answer is complete (so the prompt comes after it); otherwise while the
 * send queue has room. */
static int want_stdin(const struct session *s)
{
    if (!s->reading_stdin)
        return 0;
    if (s->interactive)
        return s->answered == s->sent;
    return outq_len(&s->pending) < PENDING_BOUND;
}

/* wait_ms - how long poll() may wait: for ever, but for one note when the
 * server has said nothing at all while a command waits for its answer. */
static int wait_ms(const struct session *s)
{
    if (s->heard || s->silence_noted || s->answered == s->sent)
        return -1;
    return SILENCE_S * 1000;
}

/* run_session - until every command is sent and answered. */
static int run_session(struct session *s)
{
    while (s->reading_stdin || s->answered < s->sent) {
        struct pollfd pfd[2];
        int n = 0, stdin_index = -1;

        if (want_stdin(s) && s->interactive && !s->prompt_shown) {
            fputs(PROMPT, stderr);
            fflush(stderr);
            s->prompt_shown = 1;
        }
        pfd[n].fd = s->sock;
        pfd[n].events = POLLIN | (outq_len(&s->pending) > 0 && !s->send_error ? POLLOUT : 0);
        n++;
        if (want_stdin(s)) {
            stdin_index = n;
            pfd[n].fd = 0;
            pfd[n].events = POLLIN;
            n++;
        }
        int ready = poll(pfd, (nfds_t)n, wait_ms(s));
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            die("poll: %s", strerror(errno));
        }
        if (ready == 0) { /* a server that says nothing at all: maybe not ours */
            fprintf(stderr, "rsh-client: nothing from the server for %d s: still waiting "
                            "(is it an rsh-server? it has sent no frame yet)\n", SILENCE_S);
            s->silence_noted = 1;
            continue;
        }
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
            read_answers(s);
        if (stdin_index >= 0 && pfd[stdin_index].revents)
            read_commands(s);
        if (outq_len(&s->pending) > 0)
            send_pending(s);
    }
    if (s->interactive && s->prompt_shown)
        fputc('\n', stderr); /* end the prompt line after ^D */
    return s->last_rejected ? EXIT_TROUBLE : s->last_status;
}

static void usage_exit(int status)
{
    fputs(USAGE, status == 0 ? stdout : stderr);
    exit(status);
}

/* join_words - the command words as one command line, as ssh does. */
static char *join_words(char **words, int n)
{
    size_t len = 0;
    char *text;

    for (int i = 0; i < n; i++)
        len += strlen(words[i]) + 1;
    if ((text = malloc(len)) == NULL)
        die("out of memory");
    text[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i > 0)
            strcat(text, " ");
        strcat(text, words[i]);
    }
    return text;
}

struct args {
    const char *host, *token_file;
    long port;
    int first_word; /* argv index of the command's first word; argc if none */
};

/* value - the value of "--name VALUE" or "--name=VALUE", or NULL if
 * argv[*i] is not that option. */
static const char *value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

static struct args parse_args(int argc, char **argv)
{
    struct args a = {RSH_DEFAULT_HOST, NULL, RSH_DEFAULT_PORT, argc};
    const char *port_text = NULL, *v;
    int i;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage_exit(0);
        } else if ((v = value(argc, argv, &i, "--host")) != NULL) {
            a.host = v;
        } else if ((v = value(argc, argv, &i, "--port")) != NULL) {
            port_text = v;
        } else if ((v = value(argc, argv, &i, "--token-file")) != NULL) {
            a.token_file = v;
        } else {
            fprintf(stderr, "rsh-client: bad argument '%s'\n", argv[i]);
            usage_exit(2);
        }
    }
    if (port_text != NULL && parse_long(port_text, 1, 65535, &a.port) < 0) {
        fprintf(stderr, "rsh-client: --port: '%s' is not a port number\n", port_text);
        usage_exit(2);
    }
    a.first_word = i;
    return a;
}

int main(int argc, char **argv)
{
    struct args a;
    struct session s;
    int status;

    ensure_std_fds(); /* before anything else gets a descriptor */
    a = parse_args(argc, argv);
    /* A server that vanishes makes send() fail with EPIPE; without this,
     * SIGPIPE would kill us silently instead (macOS has no MSG_NOSIGNAL). */
    signal(SIGPIPE, SIG_IGN);

    memset(&s, 0, sizeof s);
    frame_reader_init(&s.answers, RSH_MAX_REPLY);
    s.sock = connect_to(a.host, (int)a.port);
    queue_token(&s, a.token_file, (int)a.port);
    if (a.first_word < argc) {
        char *command = join_words(argv + a.first_word, argc - a.first_word);
        queue_command(&s, command, strlen(command)); /* copies it into the send queue */
        free(command);
    } else {
        s.reading_stdin = 1;
        s.interactive = isatty(0);
    }
    status = run_session(&s);

    close(s.sock);
    frame_reader_free(&s.answers);
    outq_free(&s.pending);
    free(s.line);
    return status;
}
