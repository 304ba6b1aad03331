// Process attributes: see process.h. Each is one syscall on this process (the init), whose result
// the container's process inherits: sched_setattr, ioprio_set and set_mempolicy settings and the
// personality survive execve, and an AppArmor "exec" attribute takes effect at the execve.
#include "process.h"

#include <sys/personality.h>

namespace tsrunc {

namespace {

// struct sched_attr (linux/sched/types.h), SCHED_ATTR_SIZE_VER1: with the utilization clamps,
// which SCHED_FLAG_UTIL_CLAMP_* read (the spec has no values for them: 0 is passed).
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

}  // namespace

// process.apparmorProfile, as aa_change_onexec (and runc) do it: write "exec <profile>" to this
// process's attr/apparmor/exec (attr/exec on kernels without the per-LSM directory). The file is
// opened beneath a private procfs with no symlink followed: the container's /proc is the
// image's or the config's, and a redirected write here would land on the host's files. Where
// AppArmor is not enabled the kernel refuses the write (EINVAL), as runc reports it.
void OpAppArmor(const Op &op) {
  std::string value = "exec " + op.strs.at(0);
  Fd proc(OpenPrivateProc(false));
  if (proc.fd < 0) Fail(errno, "mount a private procfs");
  std::string pid = std::to_string(getpid());
  Fd f(OpenBeneath(proc.fd, pid + "/attr/apparmor/exec", O_WRONLY));
  const char *shown = "/proc/self/attr/apparmor/exec";
  if (f.fd < 0 && errno == ENOENT) {
    f.fd = OpenBeneath(proc.fd, pid + "/attr/exec", O_WRONLY);
    shown = "/proc/self/attr/exec";
  }
  if (f.fd < 0) Fail(errno, std::string("open ") + shown);
  if (write(f.fd, value.data(), value.size()) < 0) Fail(errno, std::string("write ") + shown);
}

void OpScheduler(const Op &op) {
  SchedAttr a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.sched_policy = static_cast<uint32_t>(op.ints.at(0));
  a.sched_flags = static_cast<uint64_t>(op.ints.at(1));
  a.sched_nice = static_cast<int32_t>(op.ints.at(2));
  a.sched_priority = static_cast<uint32_t>(op.ints.at(3));
  a.sched_runtime = static_cast<uint64_t>(op.ints.at(4));
  a.sched_deadline = static_cast<uint64_t>(op.ints.at(5));
  a.sched_period = static_cast<uint64_t>(op.ints.at(6));
  if (syscall(SYS_sched_setattr, 0, &a, 0) < 0) Fail(errno, "sched_setattr");
}

// The spec applies ioPriority to "the process group"; runc uses IOPRIO_WHO_PGRP of the init,
// whose process group can be the caller's (tsrunc run in a shell): that would change host
// processes. This process only (IOPRIO_WHO_PROCESS): every process of the container descends
// from it and inherits the priority on fork.
void OpIoprio(const Op &op) {
  const int kWhoProcess = 1;
  if (syscall(SYS_ioprio_set, kWhoProcess, 0, static_cast<int>(op.ints.at(0))) < 0) Fail(errno, "ioprio_set");
}

void OpPersonality(const Op &op) {
  if (personality(static_cast<unsigned long>(op.ints.at(0))) < 0) Fail(errno, "personality");
}

void OpMemoryPolicy(const Op &op) {
  int mode = static_cast<int>(op.ints.at(0));
  unsigned long bits = static_cast<unsigned long>(op.ints.at(1));
  std::vector<unsigned long> mask;
  for (size_t i = 2; i < op.ints.size(); i++) mask.push_back(static_cast<unsigned long>(op.ints[i]));
  // maxnode counts one more than the bits the kernel reads (set_mempolicy(2)).
  if (syscall(SYS_set_mempolicy, mode, mask.empty() ? nullptr : mask.data(), mask.empty() ? 0 : bits + 1) < 0) {
    Fail(errno, "set_mempolicy");
  }
}

}  // namespace tsrunc
