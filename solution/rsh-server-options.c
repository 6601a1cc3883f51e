/*
 * rsh-server-options.c - rsh-server's command line, and the defaults it
 * takes from the system (see rsh-server.h).
 */
#include "rsh-server.h"
#include "args.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define DEFAULT_FRAME_TIMEOUT_S 10
#define DEFAULT_IDLE_TIMEOUT_S 600
#define DEFAULT_LINGER_S 2
#define MAX_CLIENTS_LIMIT 100000
#define FD_COUNT_LIMIT 4096 /* descriptors looked at when counting those open at start */

#define USAGE                                                                            \
    "usage: rsh-server [--host ADDR] [--port N] [--timeout SECONDS]\n"                     \
    "                  [--idle-timeout SECONDS] [--frame-timeout SECONDS]\n"               \
    "                  [--linger SECONDS] [--max-clients N] [--token-file PATH]\n"         \
    "                  [--no-auth] [--quiet]\n"                                            \
    "Runs every command a client sends with /bin/sh -c, as this user, for clients\n"       \
    "that prove they are this user too: each connection must first send the token\n"      \
    "the server writes at start to $XDG_RUNTIME_DIR/rsh/token-PORT, or else to\n"          \
    "/tmp/rsh-UID/token-PORT (mode 0600, in a directory only this user can enter).\n"      \
    "  --host ADDR              address to listen on (default 127.0.0.1)\n"               \
    "  --port N                 TCP port (default 8081; 0 picks a free port)\n"           \
    "  --timeout SECONDS        kill a command's process group after this long, and\n"    \
    "                           drop a client that takes no output for this long,\n"     \
    "                           with a '!' frame saying so (default: none, as in ssh:\n" \
    "                           the server cannot know how long `make` should take;\n"   \
    "                           a client that leaves is noticed, and its command\n"      \
    "                           killed; one that stops reading holds it back)\n"         \
    "  --idle-timeout SECONDS   close a connection with no command and no new frame\n"    \
    "                           for this long, with a '!' frame (default 600; 0: no)\n"  \
    "  --frame-timeout SECONDS  a frame must arrive whole within this once started,\n"    \
    "                           and the token within this of connecting (default 10)\n"   \
    "  --linger SECONDS         once the shell exits, wait this long for background\n"   \
    "                           jobs that still hold its output, then kill its\n"        \
    "                           process group (default 2); the answer's status is\n"     \
    "                           the shell's\n"                                            \
    "  --max-clients N          connections served at once; more get a '!' frame\n"       \
    "                           (default: what the descriptor limit allows: ulimit\n"    \
    "                           -n, less the server's own and an eighth (at most 64)\n"  \
    "                           kept for refusals, divided by the 4 a client needs)\n"   \
    "  --token-file PATH        write the token there instead\n"                           \
    "  --no-auth                no token: ANY user of this machine may run commands\n"   \
    "                           as you (for a lesson, on a machine of your own only)\n"  \
    "  --quiet                  log only problems, not every connection\n"                \
    "SIGTERM, SIGINT, SIGHUP and SIGQUIT stop it cleanly. After SIGKILL, on Linux,\n"      \
    "each running shell is killed with it, but not what the shell started.\n"

static int fit_clients(int fd_limit, int fds_base);

static int count_open_fds(int limit);
static int descriptor_limit(void);

static void usage_exit(int status)
{
    int limit = descriptor_limit();

    fputs(USAGE, status == 0 ? stdout : stderr);
    if (status == 0) /* + 4: the listening socket, the self-pipe, the log's descriptor */
        printf("Here (ulimit -n %d) the default --max-clients is about %d.\n", limit,
               fit_clients(limit, count_open_fds(limit) + 4));
    exit(status);
}

/* option_value - the value of "--name VALUE" or "--name=VALUE", or NULL if
 * argv[*i] is not that option. A missing value is a usage error. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "rsh-server: %s needs a value\n", name);
        usage_exit(2);
    }
    return argv[++*i];
}

static int number(const char *name, const char *text, long min, long max)
{
    long v;

    if (parse_long(text, min, max, &v) < 0) {
        fprintf(stderr, "rsh-server: %s: '%s' is not a number from %ld to %ld\n", name, text,
                min, max);
        usage_exit(2);
    }
    return (int)v;
}

/* seconds - a positive number of seconds as ms; with zero_ok, 0 means none (0). */
static int64_t seconds(const char *name, const char *text, int zero_ok)
{
    int64_t ms;

    if (zero_ok && strcmp(text, "0") == 0)
        return 0;
    if (parse_ms(text, 86400.0 * 365, &ms) < 0) {
        fprintf(stderr, "rsh-server: %s: '%s' is not a positive number of seconds%s\n", name,
                text, zero_ok ? " (or 0: none)" : "");
        usage_exit(2);
    }
    return ms;
}

/* parse_flag - the options without a value; 0 if argv[i] is none of them. */
static int parse_flag(struct options *o, const char *arg)
{
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
        usage_exit(0);
    else if (strcmp(arg, "--quiet") == 0)
        o->quiet = 1;
    else if (strcmp(arg, "--no-auth") == 0)
        o->no_auth = 1;
    else
        return 0;
    return 1;
}

struct options parse_args(int argc, char **argv)
{
    struct options o = {RSH_DEFAULT_HOST, RSH_DEFAULT_PORT, 0, DEFAULT_FRAME_TIMEOUT_S * 1000,
                        DEFAULT_IDLE_TIMEOUT_S * 1000, DEFAULT_LINGER_S * 1000, 0, 0, 0, NULL};
    const char *v;

    for (int i = 1; i < argc; i++) {
        if (parse_flag(&o, argv[i]))
            continue;
        else if ((v = option_value(argc, argv, &i, "--host")) != NULL)
            o.host = v;
        else if ((v = option_value(argc, argv, &i, "--port")) != NULL)
            o.port = number("--port", v, 0, 65535);
        else if ((v = option_value(argc, argv, &i, "--timeout")) != NULL)
            o.timeout_ms = seconds("--timeout", v, 1);
        else if ((v = option_value(argc, argv, &i, "--idle-timeout")) != NULL)
            o.idle_timeout_ms = seconds("--idle-timeout", v, 1);
        else if ((v = option_value(argc, argv, &i, "--frame-timeout")) != NULL)
            o.frame_timeout_ms = seconds("--frame-timeout", v, 0);
        else if ((v = option_value(argc, argv, &i, "--linger")) != NULL)
            o.linger_ms = seconds("--linger", v, 1);
        else if ((v = option_value(argc, argv, &i, "--max-clients")) != NULL)
            o.max_clients = number("--max-clients", v, 1, MAX_CLIENTS_LIMIT);
        else if ((v = option_value(argc, argv, &i, "--token-file")) != NULL)
            o.token_file = v;
        else {
            fprintf(stderr, "rsh-server: unknown argument '%s'\n", argv[i]);
            usage_exit(2);
        }
    }
    return o;
}

/* count_open_fds - how many descriptors are open now (the lowest ones:
 * what we inherited, and what the server opened for itself). */
static int count_open_fds(int limit)
{
    int n = 0;

    for (int fd = 0; fd < limit && fd < FD_COUNT_LIMIT; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

/* descriptor_limit - RLIMIT_NOFILE, as a number we can count up to. */
static int descriptor_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
        rl.rlim_cur > 1 << 24)
        return 1 << 24;
    return (int)rl.rlim_cur;
}

/* fit_clients - how many clients fd_limit descriptors serve at once, with
 * fds_base of them the server's own; 0 if not one. */
static int fit_clients(int fd_limit, int fds_base)
{
    int room = fd_limit - fds_base - FDS_TO_SPAWN;
    /* an eighth of the room (at most 64) stays for telling clients over the
     * cap that the server is busy: each of those needs only its socket */
    int fit = (room - (room / 8 < 64 ? room / 8 : 64)) / FDS_PER_CLIENT;

    if (fit < 0)
        return 0;
    return fit > MAX_CLIENTS_LIMIT ? MAX_CLIENTS_LIMIT : fit;
}

/*
 * choose_max_clients - how many clients the descriptor limit lets us serve
 * at once, each with its command running: a command that cannot start for
 * want of a descriptor must not happen, so the server stops accepting
 * before (can_accept in rsh-server.c). --max-clients above that is cut
 * down, and the log says so. Returns 0, or -1 if not even one client fits.
 */
int choose_max_clients(struct server *s)
{
    int fit;

    s->fd_limit = descriptor_limit();
    s->fds_base = count_open_fds(s->fd_limit);
    fit = fit_clients(s->fd_limit, s->fds_base);
    if (fit < 1) {
        log_problem("only %d descriptors (ulimit -n), %d of them in use: too few to serve "
                    "even one client (each needs %d); raise ulimit -n", s->fd_limit,
                    s->fds_base, FDS_PER_CLIENT + FDS_TO_SPAWN);
        return -1;
    }
    if (s->opt.max_clients == 0) {
        s->opt.max_clients = fit;
    } else if (s->opt.max_clients > fit) {
        log_problem("--max-clients %d: the descriptor limit (ulimit -n %d) allows %d clients "
                    "at once; serving at most %d", s->opt.max_clients, s->fd_limit, fit, fit);
        s->opt.max_clients = fit;
    }
    return 0;
}
