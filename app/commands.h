/* commands.h — every `toposcope` subcommand: int ts_cmd_NAME(argc, argv),
 * argv[0] being the command's name. Returns the process exit code:
 * 0 success, 1 runtime error, 2 usage error. */
#ifndef TS_APP_COMMANDS_H
#define TS_APP_COMMANDS_H

#define TS_COMMAND(name, fn, summary) int fn(int argc, char **argv);
#include "commands.def"
#undef TS_COMMAND

#endif
