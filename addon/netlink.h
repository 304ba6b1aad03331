// One rtnetlink request (header, fixed body, attributes), shared by the two sides of
// linux.netDevices: addon/netdev.cc (create, on the host) and addon/init/netdev.cc (the init).
#pragma once
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <string.h>

#include <vector>

namespace tsrunc {

struct NlReq {
  std::vector<uint8_t> buf;
  NlReq(uint16_t type, uint16_t flags, const void *body, size_t len) {
    buf.resize(NLMSG_LENGTH(len));
    nlmsghdr *h = reinterpret_cast<nlmsghdr *>(buf.data());
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = 1;
    memcpy(NLMSG_DATA(h), body, len);
    h->nlmsg_len = static_cast<uint32_t>(buf.size());
  }
  void Attr(uint16_t type, const void *data, size_t len) {
    size_t off = NLMSG_ALIGN(buf.size());
    buf.resize(off + RTA_SPACE(len));
    rtattr *a = reinterpret_cast<rtattr *>(buf.data() + off);
    a->rta_type = type;
    a->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    memcpy(RTA_DATA(a), data, len);
    reinterpret_cast<nlmsghdr *>(buf.data())->nlmsg_len = static_cast<uint32_t>(buf.size());
  }
};

}  // namespace tsrunc
