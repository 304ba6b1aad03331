// The terminal ops of tsrunc-init (plan op 40, PTY): see tty.cc.
#pragma once
#include "common.h"

namespace tsrunc {

// PTY: ints bindConsole (0/1), rows, cols, uid (-1: leave the slave's owner). Needs g_root (the
// container's root, after pivot_root for `create`; the joined container's root for `exec`) and
// g_sync (the master is sent to the parent there).
void OpPty(const Op &op);

}  // namespace tsrunc
