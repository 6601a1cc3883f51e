/*
 * rsh-server.h - what the parts of rsh-server share. The server is one
 * thread and one poll() loop; every descriptor is non-blocking, so no client
 * can stall the others.
 *
 *   rsh-server.c          the listening socket, the token, signals, and how
 *                         the server waits: one poll() round after another
 *   rsh-server-client.c   what one connection does: read commands, run them
 *                         one at a time, queue their output, close cleanly
 *   rsh-server-command.c  a command: a shell in a process group of its own,
 *                         with its stdout and stderr on two pipes
 *   rsh-server-options.c  the command line, and the defaults it takes from
 *                         the system (--max-clients from the descriptor limit)
 *   rsh-server-answer.c   one command's answer: output, exit, deadlines
 *   rsh-server-log.c      one line per event on stderr, never blocking the loop
 */
#ifndef RSH_SERVER_H
#define RSH_SERVER_H

#include <poll.h>
#include <stdint.h>
#include <sys/types.h>

#include "frame.h"
#include "net.h"
#include "outq.h"
#include "rsh-proto.h"

#define CHUNK_SIZE (64 * 1024)    /* one read() from a pipe -> one 'O' or 'E' frame */
#define OUTPUT_BOUND (256 * 1024) /* stop reading a command's pipes above this */
#define INPUT_BOUND (64 * 1024)   /* while a command runs, stop reading commands above this */
#define DRAIN_MS 1000             /* after '!' and half-close: discard input this long */
#define GOODBYE_MS 30000          /* a '!' frame the client does not take: give up after this */
#define PROBE_MS 1000             /* a half-closed client's silent command: probe it this often */
#define ACCEPT_PAUSE_MS 100       /* after accept() fails for lack of descriptors */
#define ACCEPT_BATCH 64           /* connections taken per poll() round */
/* Descriptors: an admitted client holds up to 4 (its socket, the read ends
 * of its command's two pipes, and a pidfd for the command); a command's
 * start needs 2 more for a moment (the write ends). A refused client holds 1. */
#define FDS_PER_CLIENT 4
#define FDS_TO_SPAWN 2

struct options {
    const char *host;
    int port;
    int64_t timeout_ms;       /* a command's run time; a stall in taking output; 0: none */
    int64_t frame_timeout_ms; /* from a frame's first byte to its last; and to send the token */
    int64_t idle_timeout_ms;  /* no command and no frame for this long; 0: none */
    int64_t linger_ms;        /* after the shell's exit, wait this long for its pipes */
    int max_clients;          /* 0 until chosen from the descriptor limit */
    int quiet;
    int no_auth;
    const char *token_file;   /* NULL: the usual place (rsh_token_path) */
};

/* A running command: one shell, leader of its own process group. */
struct command {
    pid_t pid;          /* the shell; also the process group id; 0: it never started */
    int pidfd;          /* readable once the shell has ended; -1: SIGCHLD tells us */
    int out_fd, err_fd; /* read ends of its stdout and stderr pipes; -1 after EOF */
    int reaped;         /* waitpid() has collected the shell's status */
    int32_t status;     /* wire status: exit code, or -N for signal N */
    int timed_out;      /* we killed it at its deadline */
    int64_t deadline;   /* --timeout; 0: none */
    int64_t linger_deadline; /* the shell has exited: its pipes must close by then */
};

enum client_state {
    CLIENT_SERVING,  /* reading commands and running them, one at a time */
    CLIENT_CLOSING,  /* a '!' frame is queued: send it, discard what arrives */
    CLIENT_DRAINING, /* half-closed after the '!': discard input until EOF or DRAIN_MS */
    CLIENT_DROPPED,  /* to be closed at the end of this poll() round */
};

struct client {
    enum client_state state;
    int index;            /* where it is in server.conns */
    int fd;
    unsigned long id;     /* for the log: client 1, client 2, ... */
    char peer[NET_ADDR_LEN]; /* "127.0.0.1:5555" */
    int admitted;         /* counts toward --max-clients */
    int authed;           /* its 'A' frame held the token (or --no-auth) */
    unsigned long frames; /* frames taken out so far: an 'A' may only be the first */
    int input_eof;        /* the peer sent FIN: no more frames will come */
    struct frame_reader in;
    struct outq out;
    int busy;             /* cmd holds the running command */
    struct command cmd;
    int64_t frame_deadline; /* a started frame must be complete by then; 0: none */
    int64_t stall_deadline; /* queued output must move by then; 0: none */
    int64_t idle_deadline;  /* a frame must come by then (no command runs); 0: none */
    int64_t probe_deadline; /* half-closed: make sure it is still there by then */
    int64_t drain_deadline; /* CLOSING and DRAINING end by then */
    char why[200];        /* CLIENT_DROPPED: what the log will say */
    int pi_sock, pi_out, pi_err, pi_pid; /* entries in this round's pollfd array, or -1 */
};

struct server {
    struct options opt;
    int listen_fd;
    int pi_listen, pi_log;
    int64_t accept_paused_until;
    struct client **conns;  /* the open connections, in no order: nconns of them */
    int nconns, conns_cap;
    int admitted;
    int fd_limit;           /* RLIMIT_NOFILE */
    int fds_base;           /* descriptors open before the first client */
    int untracked;          /* children only SIGCHLD + waitpid(-1) will reap */
    int reap_pending;       /* reap now: a child became untracked, or SIGCHLD came */
    unsigned long next_id;
    struct pollfd *pfds;
    size_t pfds_cap;
    int64_t now;            /* monotonic ms, read once per poll() round */
    char token[RSH_TOKEN_HEX + 1];
    char token_path[RSH_PATH_LEN]; /* "" until written */
};

/* rsh-server-log.c */
void log_open(void);
void log_set_quiet(int quiet);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int log_poll_fd(void);
void log_flush(void);
void log_close(int wait_ms);

/* rsh-server-options.c */
struct options parse_args(int argc, char **argv);
int choose_max_clients(struct server *s);

/* rsh-server-command.c */
int command_start(struct command *cmd, const char *text, int64_t deadline);
void command_kill(struct command *cmd);
int command_reap(struct command *cmd);
int command_finished(const struct command *cmd);
void command_close_pidfd(struct command *cmd);
int32_t wire_status(int wstatus);

/* rsh-server-client.c */
void client_open(struct server *s, int fd, const char *peer);
void client_drop(struct client *c, const char *why_fmt, ...) __attribute__((format(printf, 2, 3)));
void client_goodbye(struct server *s, struct client *c, const char *reason);
void client_flush(struct server *s, struct client *c);
void client_probe(struct server *s, struct client *c);
void client_handle_events(struct server *s, struct client *c);
int client_wants_input(const struct client *c);
void client_close(struct server *s, struct client *c, const char *why);
void client_reaped(struct server *s, pid_t pid, int wstatus);
void client_stopping(struct server *s, struct client *c, const char *why);
int64_t client_next_deadline(const struct client *c);

/* rsh-server-answer.c */
int answer_start(struct server *s, struct client *c, const unsigned char *body, uint32_t len);
int answer_step(struct server *s, struct client *c);
void answer_read_pipes(struct client *c, int out_ready, int err_ready);
void answer_cut(struct server *s, struct client *c, const char *why);

#endif
