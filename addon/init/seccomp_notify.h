// SCMP_ACT_NOTIFY in tsrunc-init (op 80, see plan.h): install the filter with a notify listener and
// hand the listener fd to `create`, which passes it on to the seccomp agent (protocol.h, step s).
#pragma once
#include "common.h"

namespace tsrunc {

void OpSeccompListener(const Op &op);

}  // namespace tsrunc
