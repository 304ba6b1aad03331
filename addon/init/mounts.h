// Mount options beyond mount(2)'s flags: recursive attributes and extra propagation
// (MOUNT_ATTRS), tmpfs with a copy of the image's directory (TMPCOPYUP), `remount` of a mount that
// is already there, and the check that an existing file is the device linux.devices asks for.
#pragma once
#include "common.h"

namespace tsrunc {

// MOUNT_ATTRS: attr_set, attr_clr, recursive, propagation (MS_SHARED...; 0: none) | dest.
void OpMountAttrs(const Op &op);
// TMPCOPYUP: the MOUNT op's ints and strs, for a tmpfs.
void OpTmpCopyUp(const Op &op);
// A MOUNT op whose flags have MS_REMOUNT: change the mount already at dest, create nothing.
void RemountExisting(const Op &op);
// After mknod said EEXIST for `path` (linux.devices): fail unless what is there, followed inside
// the root, is the device asked for (type, and major:minor unless a FIFO).
void CheckExistingDevice(const std::string &path, mode_t mode, dev_t dev);

}  // namespace tsrunc
