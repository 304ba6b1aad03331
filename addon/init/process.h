// Process attributes tsrunc-init sets on itself before the user change, inherited by the
// container's process across execve (src/plan/process.ts: APPARMOR, SCHEDULER, IOPRIO,
// PERSONALITY, MEMORY_POLICY).
#pragma once
#include "common.h"

namespace tsrunc {

void OpAppArmor(const Op &op);
void OpScheduler(const Op &op);
void OpIoprio(const Op &op);
void OpPersonality(const Op &op);
void OpMemoryPolicy(const Op &op);

}  // namespace tsrunc
