// Namespaces and user ids in tsrunc-init: time namespaces (new with offsets, or joined by path),
// fds received from `create` over the sync socket (exec.fifo for a mapped root, idmapped trees).
#pragma once
#include "common.h"

namespace tsrunc {

void OpTimens(const Op &op);
void OpJoinTimens(const Op &op);
void OpRecvFifo(const Op &op);
void OpMountIdmap(const Op &op);
void OpBindDevice(const Op &op);

}  // namespace tsrunc
