// Hooks in tsrunc-init. See addon/hookrun.h for how a hook process is run (state on stdin, output
// captured, timeout, no fd of ours reaches it) and config.md "POSIX-platform Hooks" for when.
#include "hooks.h"

#include "../hookrun.h"

namespace tsrunc {

// HOOK_SYNC: after the mounts and before pivot_root, tell `create` that the namespaces are ready
// and wait while it runs the prestart and createRuntime hooks in the runtime namespace. EOF
// instead of RESUME: `create` failed (a hook) or died; it kills us anyway, leave quietly.
void OpHookSync() {
  SyncMsg m;
  memset(&m, 0, sizeof m);
  m.type = SYNC_HOOKS;
  if (send(g_sync, &m, sizeof m, MSG_NOSIGNAL) < 0) Fail(errno, "send hooks");
  uint8_t b = 0;
  ssize_t n;
  do n = recv(g_sync, &b, 1, 0); while (n < 0 && errno == EINTR);
  if (n != 1 || b != SYNC_RESUME) _exit(1);
}

// HOOK: kind (0 createContainer, 1 startContainer), index, timeoutMs, nargs, hasEnv;
// strs: path, state JSON before the pid, state JSON after the pid, cwd ("": keep), args..., env...
// The state's pid is ours as the container sees it (runtime.md "State"), known only here.
// createContainer runs before pivot_root: its path resolves in the runtime's mount view (the
// spec's rule), its cwd is the rootfs (as runc). startContainer runs after `start`, with the
// container's root, user and capabilities: its path resolves in the container.
void OpHook(const Op &op) {
  int64_t kind = op.ints.at(0);
  size_t nargs = static_cast<size_t>(op.ints.at(3));
  hookrun::Hook h;
  h.path = op.strs.at(0);
  h.timeoutMs = op.ints.at(2);
  h.hasEnv = op.ints.at(4) != 0;
  h.cwd = op.strs.at(3);
  for (size_t i = 4; i < op.strs.size(); i++) (i - 4 < nargs ? h.args : h.env).push_back(op.strs[i]);
  std::string state = op.strs.at(1) + std::to_string(getpid()) + op.strs.at(2);
  std::string name = kind == 0 ? "createContainer" : "startContainer";
  std::string prefix = "error running " + name + " hook #" + std::to_string(op.ints.at(1)) + ": ";
  // The init is non-dumpable and catches SIGPIPE to exit: a hook that does not read its stdin must
  // not kill us through the pipe.
  struct sigaction ign, old;
  memset(&ign, 0, sizeof ign);
  ign.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ign, &old);
  hookrun::Result r;
  int err = hookrun::Run(h, state, &r);
  sigaction(SIGPIPE, &old, nullptr);
  std::string text = err ? prefix + "start " + h.path + ": " + hookrun::ErrnoText(err) : hookrun::ErrorText(h, r);
  if (text.empty()) return;
  if (!err) text = prefix + text;
  if (kind == 1 && g_start_fd >= 0) {
    // After `start` consumed the '0': the error goes to it through exec.fifo (at most one pipe
    // buffer's worth, written at once).
    if (text.size() > 4000) text.resize(4000);
    ssize_t n;
    do n = write(g_start_fd, text.data(), text.size()); while (n < 0 && errno == EINTR);
    _exit(1);
  }
  Fail(0, text);
}

}  // namespace tsrunc
