// `cipherchart server ...`: run the storage server, create the first server admin, verify the
// audit log offline.
#pragma once

namespace cipherchart::app {

// argv[0] is "server". Returns the process exit code.
int ServerCommand(int argc, char** argv);

}  // namespace cipherchart::app
