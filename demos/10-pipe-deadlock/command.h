/* Demo 10's command, for its client and its fixed client: 200000 bytes to
 * stderr - three times what a Linux pipe holds by default - then "done\n"
 * to stdout. */
#ifndef COMMAND_H
#define COMMAND_H

#define STDERR_BYTES 200000
#define STR_(x) #x
#define STR(x) STR_(x)
#define COMMAND "head -c " STR(STDERR_BYTES) " /dev/zero >&2; echo done"

#endif
