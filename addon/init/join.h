// Ops of tsrunc-init for joining existing namespaces and for `tsrunc exec` (codes 90-99, see
// plan.h): FORK (a second fork where a joined pid namespace must apply), JOIN (setns with a pidfd
// of the container's init), EXEC_READY (the last step before an exec'd process's EXEC).
#pragma once
#include "common.h"

namespace tsrunc {

void OpFork(const Op &op);
void OpJoin(const Op &op);
void OpExecReady();

}  // namespace tsrunc
