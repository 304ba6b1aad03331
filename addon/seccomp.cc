// seccompCompile(filter) -> { bpf: Buffer, skipped: string[] }
//
// The seccomp filter of linux.seccomp, compiled with libseccomp in the parent (Node), before the
// clone: tsrunc-init stays static and libseccomp-free, it only installs the ready program
// (SECCOMP op). `filter` is what src/plan/seccomp.ts makes of the profile:
//   { defaultAction: u32, archs: [libseccomp arch name], rules: [{ name, action: u32,
//     args: [{ index, op, value: "u64", valueTwo: "u64" }] }] }
// Syscall names this libseccomp cannot resolve are skipped and returned in `skipped` (runc ignores
// them too: a name newer than the library is a syscall the kernel most likely lacks as well).
#include <dlfcn.h>
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <napi.h>

#include <string>
#include <type_traits>
#include <vector>

namespace {

[[noreturn]] void Throw(Napi::Env env, const std::string &msg, int rc) {
  Napi::Error e = Napi::Error::New(env, "seccomp: " + msg + (rc ? std::string(": ") + strerror(-rc) : std::string()));
  throw e;
}

// libseccomp is opened on first use, not linked: every start, kill and delete loads this addon,
// and only a linux.seccomp needs the library (~0.3 ms of dynamic loading on the project's VMs).
struct Libseccomp {
  decltype(&seccomp_init) init;
  decltype(&seccomp_release) release;
  decltype(&seccomp_attr_set) attr_set;
  decltype(&seccomp_arch_resolve_name) arch_resolve_name;
  decltype(&seccomp_arch_add) arch_add;
  decltype(&seccomp_syscall_resolve_name) syscall_resolve_name;
  decltype(&seccomp_rule_add_array) rule_add_array;
  decltype(&seccomp_export_bpf) export_bpf;
};

const Libseccomp &Lib(Napi::Env env) {
  static Libseccomp lib;
  static bool loaded = false;
  if (loaded) return lib;
  void *h = dlopen("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL);
  if (!h) Throw(env, std::string("load libseccomp.so.2: ") + dlerror(), 0);
  auto sym = [&](auto &fn, const char *name) {
    void *p = dlsym(h, name);
    if (!p) Throw(env, std::string("libseccomp.so.2 has no ") + name, 0);
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
  };
  sym(lib.init, "seccomp_init");
  sym(lib.release, "seccomp_release");
  sym(lib.attr_set, "seccomp_attr_set");
  sym(lib.arch_resolve_name, "seccomp_arch_resolve_name");
  sym(lib.arch_add, "seccomp_arch_add");
  sym(lib.syscall_resolve_name, "seccomp_syscall_resolve_name");
  sym(lib.rule_add_array, "seccomp_rule_add_array");
  sym(lib.export_bpf, "seccomp_export_bpf");
  loaded = true;  // the handle stays open for the life of the process
  return lib;
}

struct Ctx {
  const Libseccomp &lib;
  scmp_filter_ctx ctx = nullptr;
  explicit Ctx(const Libseccomp &l) : lib(l) {}
  ~Ctx() { if (ctx) lib.release(ctx); }
};

uint32_t U32(Napi::Value v) { return static_cast<uint32_t>(v.As<Napi::Number>().Int64Value()); }

uint64_t U64(Napi::Env env, Napi::Value v) {
  std::string s = v.As<Napi::String>().Utf8Value();
  char *end = nullptr;
  errno = 0;
  unsigned long long x = strtoull(s.c_str(), &end, 10);
  if (errno || end == s.c_str() || *end) Throw(env, "bad argument value " + s, 0);
  return x;
}

Napi::Value Compile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Object f = info[0].As<Napi::Object>();
  const Libseccomp &L = Lib(env);
  Ctx c(L);
  c.ctx = L.init(U32(f.Get("defaultAction")));
  if (!c.ctx) Throw(env, "seccomp_init failed (invalid default action?)", 0);
  // tsrunc-init installs the program itself and decides about no_new_privs (the config does).
  int rc = L.attr_set(c.ctx, SCMP_FLTATR_CTL_NNP, 0);
  if (rc < 0) Throw(env, "seccomp_attr_set(NNP)", rc);

  Napi::Array archs = f.Get("archs").As<Napi::Array>();
  for (uint32_t i = 0; i < archs.Length(); i++) {
    std::string name = archs.Get(i).As<Napi::String>().Utf8Value();
    uint32_t token = L.arch_resolve_name(name.c_str());
    if (token == 0) Throw(env, "unknown architecture " + name, 0);
    rc = L.arch_add(c.ctx, token);
    if (rc < 0 && rc != -EEXIST) Throw(env, "seccomp_arch_add(" + name + ")", rc);
  }

  Napi::Array skipped = Napi::Array::New(env);
  Napi::Array rules = f.Get("rules").As<Napi::Array>();
  for (uint32_t i = 0; i < rules.Length(); i++) {
    Napi::Object r = rules.Get(i).As<Napi::Object>();
    std::string name = r.Get("name").As<Napi::String>().Utf8Value();
    uint32_t action = U32(r.Get("action"));
    int nr = L.syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      skipped.Set(skipped.Length(), Napi::String::New(env, name));
      continue;
    }
    Napi::Array args = r.Get("args").As<Napi::Array>();
    std::vector<scmp_arg_cmp> cmps;
    for (uint32_t j = 0; j < args.Length(); j++) {
      Napi::Object a = args.Get(j).As<Napi::Object>();
      scmp_arg_cmp cmp;
      memset(&cmp, 0, sizeof cmp);
      cmp.arg = U32(a.Get("index"));
      cmp.op = static_cast<scmp_compare>(U32(a.Get("op")));
      cmp.datum_a = U64(env, a.Get("value"));
      cmp.datum_b = U64(env, a.Get("valueTwo"));
      cmps.push_back(cmp);
    }
    rc = L.rule_add_array(c.ctx, action, nr, static_cast<unsigned>(cmps.size()), cmps.empty() ? nullptr : cmps.data());
    if (rc < 0) Throw(env, "adding a rule for " + name, rc);
  }

  // libseccomp 2.5 exports to an fd only (seccomp_export_bpf_mem is 2.6).
  int fd = memfd_create("tsrunc-seccomp", MFD_CLOEXEC);
  if (fd < 0) Throw(env, "memfd_create", -errno);
  rc = L.export_bpf(c.ctx, fd);
  if (rc < 0) { close(fd); Throw(env, "seccomp_export_bpf", rc); }
  off_t size = lseek(fd, 0, SEEK_END);
  std::vector<uint8_t> buf(size > 0 ? static_cast<size_t>(size) : 0);
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = pread(fd, buf.data() + got, buf.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { int e = errno; close(fd); Throw(env, "reading the exported program", -(n < 0 ? e : EIO)); }
    got += static_cast<size_t>(n);
  }
  close(fd);
  Napi::Object out = Napi::Object::New(env);
  out.Set("bpf", Napi::Buffer<uint8_t>::Copy(env, buf.data(), buf.size()));
  out.Set("skipped", skipped);
  return out;
}

}  // namespace

void InitSeccomp(Napi::Env env, Napi::Object exports) {
  exports.Set("seccompCompile", Napi::Function::New(env, Compile));
}
