// eBPF cgroup device programs (cgroup v2): load a BPF_PROG_TYPE_CGROUP_DEVICE program compiled in
// TypeScript (src/cgroup/bpf.ts) and attach it to a cgroup2 directory.
//
// Exports:
//   bpfAttachDeviceProgram(cgroupDir: string, insns: Buffer): undefined
//     Loads insns (an array of struct bpf_insn) and attaches it with BPF_CGROUP_DEVICE. Programs
//     already attached directly to that cgroup are replaced: with BPF_F_ALLOW_MULTI (the usual
//     case) the new one is attached first and the old ones detached after, so there is never a
//     moment without a filter (while both are attached, both must allow). If the cgroup holds a
//     program attached without ALLOW_MULTI, the new one is attached with the same flags, which
//     replaces it atomically.
//   bpfQueryDevicePrograms(cgroupDir: string): number[]   ids attached directly to the cgroup
//
// Errors: Napi::Error with code (errno name), errno, syscall, path; a failed BPF_PROG_LOAD has the
// verifier log in its message.
#include "bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include "errors.h"

namespace {

using tsrunc::Fd;

// The license only matters for GPL-only helpers; a device filter calls none, so any string is
// accepted. "Apache" is what runc uses for the same program.
const char kLicense[] = "Apache";

long SysBpf(int cmd, union bpf_attr *attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

uint64_t Ptr(const void *p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

Napi::Error BpfError(Napi::Env env, int err, const char *syscallName, const std::string &path,
                     const std::string &extra = "") {
  const char *name = strerrorname_np(err);
  std::string code = name != nullptr ? name : "E" + std::to_string(err);
  std::string msg = std::string(syscallName) + " `" + path + "`: " + code;
  if (!extra.empty()) msg += "\n" + extra;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscallName));
  e.Set("path", Napi::String::New(env, path));
  return e;
}

// Load the program; on failure load again with the verifier log on, to report it.
int LoadProgram(const uint8_t *insns, size_t count, std::string *log, int *err) {
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = Ptr(insns);
  attr.insn_cnt = static_cast<uint32_t>(count);
  attr.license = Ptr(kLicense);
  int fd = static_cast<int>(SysBpf(BPF_PROG_LOAD, &attr));
  if (fd >= 0) return fd;
  *err = errno;
  std::vector<char> buf(1 << 20, '\0');
  attr.log_buf = Ptr(buf.data());
  attr.log_size = static_cast<uint32_t>(buf.size());
  attr.log_level = 1;
  int fd2 = static_cast<int>(SysBpf(BPF_PROG_LOAD, &attr));
  if (fd2 >= 0) {  // succeeded the second time: use it
    *err = 0;
    return fd2;
  }
  log->assign(buf.data(), strnlen(buf.data(), buf.size()));
  while (!log->empty() && (log->back() == '\n' || log->back() == ' ')) log->pop_back();
  return -1;
}

// Ids of the device programs attached directly to dirFd, and the attach flags.
bool QueryPrograms(int dirFd, std::vector<uint32_t> *ids, uint32_t *flags, int *err) {
  std::vector<uint32_t> buf(64);
  for (;;) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = static_cast<uint32_t>(dirFd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = Ptr(buf.data());
    attr.query.prog_cnt = static_cast<uint32_t>(buf.size());
    if (SysBpf(BPF_PROG_QUERY, &attr) == 0) {
      ids->assign(buf.begin(), buf.begin() + attr.query.prog_cnt);
      *flags = attr.query.attach_flags;
      return true;
    }
    if (errno == ENOSPC && buf.size() < 65536) {
      buf.resize(buf.size() * 4);
      continue;
    }
    *err = errno;
    return false;
  }
}

std::string DirArg(const Napi::CallbackInfo &info) {
  if (info.Length() < 1 || !info[0].IsString()) {
    throw Napi::TypeError::New(info.Env(), "cgroupDir must be a string");
  }
  return info[0].As<Napi::String>().Utf8Value();
}

Fd OpenDir(Napi::Env env, const std::string &dir) {
  Fd fd(open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) throw BpfError(env, errno, "open", dir);
  return fd;
}

Napi::Value AttachDeviceProgram(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string dir = DirArg(info);
  if (info.Length() < 2 || !info[1].IsBuffer()) {
    throw Napi::TypeError::New(env, "insns must be a Buffer");
  }
  Napi::Buffer<uint8_t> insns = info[1].As<Napi::Buffer<uint8_t>>();
  if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn) != 0 ||
      insns.Length() / sizeof(struct bpf_insn) > 1000000) {
    throw Napi::TypeError::New(env, "insns must hold a whole number of bpf instructions");
  }

  std::string log;
  int err = 0;
  Fd prog(LoadProgram(insns.Data(), insns.Length() / sizeof(struct bpf_insn), &log, &err));
  if (!prog.ok()) {
    throw BpfError(env, err, "bpf(BPF_PROG_LOAD)", dir,
                   log.empty() ? "" : "verifier log:\n" + log);
  }

  Fd cg = OpenDir(env, dir);
  std::vector<uint32_t> old;
  uint32_t oldFlags = 0;
  if (!QueryPrograms(cg.get(), &old, &oldFlags, &err)) {
    throw BpfError(env, err, "bpf(BPF_PROG_QUERY)", dir);
  }

  const bool multi = old.empty() || (oldFlags & BPF_F_ALLOW_MULTI) != 0;
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.target_fd = static_cast<uint32_t>(cg.get());
  attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = multi ? BPF_F_ALLOW_MULTI : oldFlags;
  if (SysBpf(BPF_PROG_ATTACH, &attr) != 0) {
    throw BpfError(env, errno, "bpf(BPF_PROG_ATTACH)", dir);
  }
  if (!multi) return env.Undefined();  // the single old program was replaced

  for (uint32_t id : old) {
    union bpf_attr get;
    memset(&get, 0, sizeof(get));
    get.prog_id = id;
    Fd oldProg(static_cast<int>(SysBpf(BPF_PROG_GET_FD_BY_ID, &get)));
    if (!oldProg.ok()) {
      if (errno == ENOENT) continue;  // already gone
      throw BpfError(env, errno, "bpf(BPF_PROG_GET_FD_BY_ID)", dir);
    }
    union bpf_attr det;
    memset(&det, 0, sizeof(det));
    det.target_fd = static_cast<uint32_t>(cg.get());
    det.attach_bpf_fd = static_cast<uint32_t>(oldProg.get());
    det.attach_type = BPF_CGROUP_DEVICE;
    if (SysBpf(BPF_PROG_DETACH, &det) != 0 && errno != ENOENT) {
      throw BpfError(env, errno, "bpf(BPF_PROG_DETACH)", dir);
    }
  }
  return env.Undefined();
}

Napi::Value QueryDevicePrograms(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string dir = DirArg(info);
  Fd cg = OpenDir(env, dir);
  std::vector<uint32_t> ids;
  uint32_t flags = 0;
  int err = 0;
  if (!QueryPrograms(cg.get(), &ids, &flags, &err)) {
    throw BpfError(env, err, "bpf(BPF_PROG_QUERY)", dir);
  }
  Napi::Array out = Napi::Array::New(env, ids.size());
  for (size_t i = 0; i < ids.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, ids[i]));
  return out;
}

}  // namespace

void InitBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfAttachDeviceProgram", Napi::Function::New(env, AttachDeviceProgram, "bpfAttachDeviceProgram"));
  exports.Set("bpfQueryDevicePrograms", Napi::Function::New(env, QueryDevicePrograms, "bpfQueryDevicePrograms"));
}
