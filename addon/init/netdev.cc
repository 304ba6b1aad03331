// linux.netDevices inside the container's network namespace. `create` moved the device here
// (addon/netdev.cc) before releasing the init; the kernel flushed its addresses on the way. As
// the spec asks, the permanent global addresses it had on the host are added again and the
// device is set up. The device is found by its ifindex, which a move into a new namespace keeps
// (only `lo`, index 1, is there before it), so a `%d` name template needs no lookup.
#include "netdev.h"
#include "../netlink.h"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

namespace tsrunc {

namespace {

// Send one request and wait for its ACK; 0 or -errno.
int NlTalk(int fd, const NlReq &r) {
  if (send(fd, r.buf.data(), r.buf.size(), 0) < 0) return -errno;
  char buf[8192];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) { if (errno == EINTR) continue; return -errno; }
    int len = static_cast<int>(n);
    for (nlmsghdr *h = reinterpret_cast<nlmsghdr *>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_ERROR) return reinterpret_cast<nlmsgerr *>(NLMSG_DATA(h))->error;
      if (h->nlmsg_type == NLMSG_DONE) return 0;
    }
  }
}

}  // namespace

// NETDEV: ints ifindex, naddrs, then per address family, prefixlen, scope, flags; strs the name
// (for messages), then each address as hex.
void OpNetdev(const Op &op) {
  int index = static_cast<int>(op.ints.at(0));
  size_t naddrs = static_cast<size_t>(op.ints.at(1));
  const std::string &name = op.strs.at(0);
  Fd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (fd.fd < 0) Fail(errno, "socket(NETLINK_ROUTE)");
  char have[IF_NAMESIZE];
  if (!if_indextoname(static_cast<unsigned>(index), have)) Fail(errno, "find " + name + " in the container's network namespace");
  for (size_t i = 0; i < naddrs; i++) {
    ifaddrmsg ifa;
    memset(&ifa, 0, sizeof ifa);
    ifa.ifa_family = static_cast<uint8_t>(op.ints.at(2 + 4 * i));
    ifa.ifa_prefixlen = static_cast<uint8_t>(op.ints.at(3 + 4 * i));
    ifa.ifa_scope = static_cast<uint8_t>(op.ints.at(4 + 4 * i));
    uint32_t flags = static_cast<uint32_t>(op.ints.at(5 + 4 * i));
    ifa.ifa_flags = static_cast<uint8_t>(flags);
    ifa.ifa_index = static_cast<uint32_t>(index);
    const std::string &hex = op.strs.at(1 + i);
    std::vector<uint8_t> addr(hex.size() / 2);
    if (!HexBytes(hex, addr.data())) Fail(EINVAL, "bad address in the plan");
    NlReq r(RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof ifa);
    r.Attr(IFA_LOCAL, addr.data(), addr.size());
    r.Attr(IFA_ADDRESS, addr.data(), addr.size());
    r.Attr(IFA_FLAGS, &flags, sizeof flags);
    int err = NlTalk(fd.fd, r);
    if (err < 0) Fail(-err, std::string("add an address to ") + have);
  }
  ifinfomsg ifi;
  memset(&ifi, 0, sizeof ifi);
  ifi.ifi_index = index;
  ifi.ifi_flags = IFF_UP;
  ifi.ifi_change = IFF_UP;
  NlReq up(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, &ifi, sizeof ifi);
  int err = NlTalk(fd.fd, up);
  if (err < 0) Fail(-err, std::string("set ") + have + " up");
}

}  // namespace tsrunc
