/*
 * rsh-server.h - what the parts of rsh-server share. The server is one
 * thread and one poll() loop; every descriptor is non-blocking, so no client
 * can stall the others.
 *
 *   rsh-server.c          options, the listening socket, signals, and how the
 *                         server waits: one poll() round after another
 *   rsh-server-client.c   what one connection does: read commands, run them
 *                         one at a time, queue their output, close cleanly
 *   rsh-server-command.c  a command: a shell in a process group of its own,
 *                         with its stdout and stderr on two pipes
 *   rsh-server-log.c      one line per event on stderr
 */
#ifndef RSH_SERVER_H
#define RSH_SERVER_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "frame.h"
#include "net.h"
#include "outq.h"

#define CHUNK_SIZE (64 * 1024)    /* one read() from a pipe -> one 'O' or 'E' frame */
#define OUTPUT_BOUND (256 * 1024) /* stop reading a command's pipes above this */
#define INPUT_BOUND (64 * 1024)   /* while a command runs, stop reading commands above this */
#define DRAIN_MS 1000             /* after '!' and half-close: discard input this long */
#define ACCEPT_PAUSE_MS 100       /* after accept() fails for lack of descriptors */
#define ACCEPT_BATCH 64           /* connections taken per poll() round */
#define REJECT_SLOTS 16           /* over-the-cap connections told "busy" at once */

struct options {
    const char *host;
    int port;
    int64_t timeout_ms;       /* a command's run time; a stall in taking output */
    int64_t frame_timeout_ms; /* from a frame's first byte to its last */
    int max_clients;
    int quiet;
};

/* A running command: one shell, leader of its own process group. */
struct command {
    pid_t pid;          /* the shell; also the process group id */
    int out_fd, err_fd; /* read ends of its stdout and stderr pipes; -1 after EOF */
    int reaped;         /* waitpid() has collected the shell's status */
    int32_t status;     /* wire status: exit code, or -N for signal N */
    int timed_out;      /* we killed it at its deadline */
    int64_t deadline;
};

enum client_state {
    CLIENT_FREE,     /* slot unused */
    CLIENT_SERVING,  /* reading commands and running them, one at a time */
    CLIENT_CLOSING,  /* a '!' frame is queued: send it, discard what arrives */
    CLIENT_DRAINING, /* half-closed after the '!': discard input until EOF or DRAIN_MS */
    CLIENT_DROPPED,  /* to be closed at the end of this poll() round */
};

struct client {
    enum client_state state;
    int fd;
    unsigned long id;     /* for the log: client 1, client 2, ... */
    char peer[NET_ADDR_LEN]; /* "127.0.0.1:5555" */
    int admitted;         /* counts toward --max-clients */
    int input_eof;        /* the peer sent FIN (CLOSING/DRAINING only) */
    struct frame_reader in;
    struct outq out;
    int busy;             /* cmd holds the running command */
    struct command cmd;
    int64_t frame_deadline; /* a started frame must be complete by then; 0: none */
    int64_t stall_deadline; /* queued output must move by then; 0: none */
    int64_t drain_deadline; /* DRAINING ends by then */
    char why[200];        /* CLIENT_DROPPED: what the log will say */
    int pi_sock, pi_out, pi_err; /* entries in this round's pollfd array, or -1 */
};

struct server {
    struct options opt;
    int listen_fd;
    int pi_listen;
    int64_t accept_paused_until;
    struct client *clients; /* max_clients + REJECT_SLOTS slots */
    int nslots;
    int admitted;
    unsigned long next_id;
    struct pollfd *pfds;
    int64_t now; /* monotonic ms, read once per poll() round */
};

/* rsh-server-log.c */
void log_set_quiet(int quiet);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* rsh-server-command.c */
int command_start(struct command *cmd, const char *text, int64_t deadline);
void command_kill(struct command *cmd);
int command_finished(const struct command *cmd);
int32_t wire_status(int wstatus);

/* rsh-server-client.c */
void client_open(struct server *s, int fd, const char *peer);
void client_handle_events(struct server *s, struct client *c);
int client_wants_input(const struct client *c);
void client_close(struct server *s, struct client *c, const char *why);
void client_reaped(struct server *s, pid_t pid, int wstatus);

#endif
