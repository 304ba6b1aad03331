// Hooks in tsrunc-init (ops 70-79, see plan.h): the sync point where `create` runs the prestart
// and createRuntime hooks, and the container-namespace hooks (createContainer, startContainer)
// the init runs itself.
#pragma once
#include "common.h"

namespace tsrunc {

// exec.fifo opened for writing (WAIT_START): kept open (O_CLOEXEC) until the execve, so that
// `start` sees EOF only once the container's program runs, and a failed startContainer hook can
// tell `start` why (protocol.h).
inline int g_start_fd = -1;

void OpHookSync();
void OpHook(const Op &op);

}  // namespace tsrunc
