/*
 * shell.h - run a command the way the course's server does:
 *     obj = subprocess.Popen(cmd, shell=True, stdout=PIPE, stderr=PIPE)
 *     stdout = obj.stdout.read(); stderr = obj.stderr.read()
 * For the demos whose server runs commands (4, 5, 8, 10). Dies on error.
 */
#ifndef SHELL_H
#define SHELL_H

#include <stddef.h>
#include <sys/types.h>

/*
 * demo_start_shell - start /bin/sh -c cmd in a process group of its own (one
 * kill(-pid, ...) reaches it and what it starts), its stdout and stderr on
 * two pipes whose read ends go to *out_fd and *err_fd. Returns its pid.
 */
pid_t demo_start_shell(const char *cmd, int *out_fd, int *err_fd);

/*
 * demo_run_shell - run cmd with /bin/sh -c and return its stdout followed by
 * its stderr (malloc'd; *len gets the size; *stdout_len, if not NULL, where
 * stderr starts), read in the course's order: stdout to EOF, then stderr.
 * Demo 10 shows why that order can hang; these demos' commands write little
 * to stderr.
 */
char *demo_run_shell(const char *cmd, size_t *len, size_t *stdout_len);

#endif
