// linux.netDevices, the container side: see netdev.cc.
#pragma once
#include "common.h"

namespace tsrunc {

void OpNetdev(const Op &op);

}  // namespace tsrunc
