// Parent-side helpers for user namespaces and idmapped mounts (the init's side is
// addon/init/ns.cc):
//   - releasing the clone child once its uid/gid maps are written (SYNC_IDMAPS, protocol.h);
//   - idmapped trees: open_tree(OPEN_TREE_CLONE) of a bind source, then mount_setattr with
//     MOUNT_ATTR_IDMAP and a user namespace that carries the mapping. That namespace is held by a
//     short-lived helper process (a new user namespace needs a process in it while its maps are
//     written); the helper exits as soon as the namespace fd is open. This is done here, by host
//     root, because MOUNT_ATTR_IDMAP needs CAP_SYS_ADMIN over the source's filesystem, which the
//     init of a container with its own user namespace does not have;
//   - detaching what a container without a mount namespace mounted in the caller's (delete).
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include <napi.h>

#include "errors.h"
#include "protocol.h"

namespace tsrunc {

namespace {

int WriteString(const std::string &path, const std::string &v) {
  Fd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.ok()) return errno;
  // uid_map/gid_map must be written in a single write(2).
  ssize_t n = write(fd.get(), v.data(), v.size());
  if (n < 0) return errno;
  return n == static_cast<ssize_t>(v.size()) ? 0 : EIO;
}

// idmapTree(source, tree, recursive, uidMap, gidMap) -> fd of a detached, idmapped mount tree.
// uidMap/gidMap are in /proc/<pid>/uid_map format ("inside outside size\n" lines).
Napi::Value IdmapTree(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string source = info[0].As<Napi::String>().Utf8Value();
  bool tree = info[1].As<Napi::Boolean>().Value();
  bool recursive = info[2].As<Napi::Boolean>().Value();
  std::string uidMap = info[3].As<Napi::String>().Utf8Value(), gidMap = info[4].As<Napi::String>().Utf8Value();

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) throw ErrnoError(env, errno, "pipe2");
  Fd rd(pipefd[0]), wr(pipefd[1]);
  // The helper: a fork-like clone (no stack given) into a new user namespace that only waits
  // for the pipe to close. This process is multi-threaded: the child makes raw syscalls only, and
  // every signal is blocked around the clone so that no Node handler runs in it.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) {
    char c;
    syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    syscall(SYS_close, pipefd[1]);
    syscall(SYS_read, pipefd[0], &c, 1);
    syscall(SYS_exit_group, 0);
  }
  int cloneErr = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) throw ErrnoError(env, cloneErr, "clone(CLONE_NEWUSER)");
  rd.reset();

  std::string proc = "/proc/" + std::to_string(pid);
  int err = 0;
  const char *what = "";
  Fd ns;
  if ((err = WriteString(proc + "/uid_map", uidMap))) what = "write uid_map";
  else if ((err = WriteString(proc + "/gid_map", gidMap))) what = "write gid_map";
  else {
    ns.reset(open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.ok()) { err = errno; what = "open ns/user"; }
  }
  wr.reset();  // the helper exits
  int st;
  while (waitpid(static_cast<pid_t>(pid), &st, __WALL) < 0 && errno == EINTR) {}
  if (err) throw ErrnoError(env, err, what, source);

  unsigned treeFlags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (tree ? AT_RECURSIVE : 0);
  Fd t(open_tree(AT_FDCWD, source.c_str(), treeFlags));
  if (!t.ok()) throw ErrnoError(env, errno, "open_tree", source);
  struct mount_attr a;
  memset(&a, 0, sizeof a);
  a.attr_set = MOUNT_ATTR_IDMAP;
  a.userns_fd = static_cast<uint64_t>(ns.get());
  if (mount_setattr(t.get(), "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a) < 0) {
    throw ErrnoError(env, errno, "mount_setattr(MOUNT_ATTR_IDMAP)", source);
  }
  return Napi::Number::New(env, t.release());
}

// syncIdMaps(sock): the maps are written, the clone child may become root and exec.
Napi::Value SyncIdMaps(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  uint8_t b = SYNC_IDMAPS;
  ssize_t n;
  do n = send(sock, &b, 1, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n < 0) throw ErrnoError(env, errno, "send(sync idmaps)");
  return env.Undefined();
}

// detachMount(path): umount2(MNT_DETACH | UMOUNT_NOFOLLOW) of the topmost mount at path.
Napi::Value DetachMount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) < 0) throw ErrnoError(env, errno, "umount2", path);
  return env.Undefined();
}

}  // namespace

void InitUserns(Napi::Env env, Napi::Object exports) {
  exports.Set("idmapTree", Napi::Function::New(env, IdmapTree));
  exports.Set("syncIdMaps", Napi::Function::New(env, SyncIdMaps));
  exports.Set("detachMount", Napi::Function::New(env, DetachMount));
}

}  // namespace tsrunc
