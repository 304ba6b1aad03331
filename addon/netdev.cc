// linux.netDevices, the host side (runtime-spec config-linux.md "Network Devices"): find a device
// of the runtime's network namespace and its permanent global addresses (they do not survive a
// move between namespaces: the kernel flushes them), and move it into the container init's new
// network namespace, renamed in the same RTM_NEWLINK (a `%d` template lets the kernel pick a free
// name). The init re-adds the addresses and sets the device up inside (addon/init/netdev.cc).
// Plain rtnetlink on a socket of this thread: nothing here changes namespaces.
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <napi.h>

#include <string>
#include <vector>

#include "errors.h"
#include "netlink.h"

namespace tsrunc {
namespace {

int Open() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  sockaddr_nl sa;
  memset(&sa, 0, sizeof sa);
  sa.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) < 0) { int e = errno; close(fd); return -e; }
  return fd;
}

// Send `r` and read until the ACK (or the end of a dump); `each` sees every data message.
template <typename F>
int Talk(int fd, const NlReq &r, F each) {
  if (send(fd, r.buf.data(), r.buf.size(), 0) < 0) return -errno;
  std::vector<char> buf(65536);
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) { if (errno == EINTR) continue; return -errno; }
    int len = static_cast<int>(n);
    for (auto *h = reinterpret_cast<nlmsghdr *>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) return 0;
      if (h->nlmsg_type == NLMSG_ERROR) return reinterpret_cast<nlmsgerr *>(NLMSG_DATA(h))->error;
      each(h);
    }
  }
}

// netdevInfo(name) -> { index, addrs: [{ family, prefixlen, scope, flags, address: Buffer }] }:
// the permanent addresses of global scope, the ones the spec says a move must keep.
Napi::Value NetdevInfo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string name = info[0].As<Napi::String>();
  unsigned index = if_nametoindex(name.c_str());
  if (index == 0) throw ErrnoError(env, errno, "if_nametoindex", name);
  Fd fd(Open());
  if (!fd.ok()) throw ErrnoError(env, -fd.release(), "socket(NETLINK_ROUTE)");
  ifaddrmsg ifa;
  memset(&ifa, 0, sizeof ifa);
  NlReq r(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, &ifa, sizeof ifa);
  Napi::Array addrs = Napi::Array::New(env);
  uint32_t n = 0;
  int err = Talk(fd.get(), r, [&](nlmsghdr *h) {
    if (h->nlmsg_type != RTM_NEWADDR) return;
    auto *m = reinterpret_cast<ifaddrmsg *>(NLMSG_DATA(h));
    if (m->ifa_index != index || m->ifa_scope != RT_SCOPE_UNIVERSE) return;
    uint32_t flags = m->ifa_flags;
    const void *local = nullptr, *address = nullptr;
    size_t alen = 0;
    int len = static_cast<int>(IFA_PAYLOAD(h));
    for (auto *a = IFA_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
      if (a->rta_type == IFA_FLAGS) memcpy(&flags, RTA_DATA(a), sizeof flags);
      if (a->rta_type == IFA_LOCAL) local = RTA_DATA(a);
      if (a->rta_type == IFA_ADDRESS) { address = RTA_DATA(a); alen = RTA_PAYLOAD(a); }
    }
    if (!(flags & IFA_F_PERMANENT) || !address) return;
    const void *addr = local ? local : address;
    Napi::Object o = Napi::Object::New(env);
    o.Set("family", Napi::Number::New(env, m->ifa_family));
    o.Set("prefixlen", Napi::Number::New(env, m->ifa_prefixlen));
    o.Set("scope", Napi::Number::New(env, m->ifa_scope));
    o.Set("flags", Napi::Number::New(env, flags));
    o.Set("address", Napi::Buffer<uint8_t>::Copy(env, static_cast<const uint8_t *>(addr), alen));
    addrs.Set(n++, o);
  });
  if (err < 0) throw ErrnoError(env, -err, "RTM_GETADDR", name);
  Napi::Object out = Napi::Object::New(env);
  out.Set("index", Napi::Number::New(env, index));
  out.Set("addrs", addrs);
  return out;
}

// netdevMove(index, pid, newName): RTM_NEWLINK with IFLA_NET_NS_PID (and IFLA_IFNAME, which the
// kernel applies in the target namespace once the device is there).
Napi::Value NetdevMove(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int index = info[0].As<Napi::Number>().Int32Value();
  uint32_t pid = info[1].As<Napi::Number>().Uint32Value();
  std::string name = info[2].As<Napi::String>();
  Fd fd(Open());
  if (!fd.ok()) throw ErrnoError(env, -fd.release(), "socket(NETLINK_ROUTE)");
  ifinfomsg ifi;
  memset(&ifi, 0, sizeof ifi);
  ifi.ifi_index = index;
  NlReq r(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, &ifi, sizeof ifi);
  r.Attr(IFLA_NET_NS_PID, &pid, sizeof pid);
  if (!name.empty()) r.Attr(IFLA_IFNAME, name.c_str(), name.size() + 1);
  int err = Talk(fd.get(), r, [](nlmsghdr *) {});
  if (err < 0) throw ErrnoError(env, -err, "RTM_NEWLINK", name);
  return env.Undefined();
}

}  // namespace

void InitNetdev(Napi::Env env, Napi::Object exports) {
  exports.Set("netdevInfo", Napi::Function::New(env, NetdevInfo));
  exports.Set("netdevMove", Napi::Function::New(env, NetdevMove));
}

}  // namespace tsrunc
