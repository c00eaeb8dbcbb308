// libxdp's and libbpf's functions, loaded with dlopen the first time an AF_XDP
// device opens: the addon itself needs neither library, so AF_PACKET mode
// works on a host that has none of them. Only their headers are needed to
// build AF_XDP in (the ring accessors are inline there).
#pragma once

#include <bpf/bpf.h>
#include <xdp/xsk.h>

namespace catpowder {

struct XdpLibs {
  decltype(&::xsk_umem__create) xsk_umem__create;
  decltype(&::xsk_umem__delete) xsk_umem__delete;
  decltype(&::xsk_socket__create) xsk_socket__create;
  decltype(&::xsk_socket__delete) xsk_socket__delete;
  decltype(&::xsk_socket__fd) xsk_socket__fd;
  decltype(&::bpf_map_create) bpf_map_create;
  decltype(&::bpf_map_update_elem) bpf_map_update_elem;
  decltype(&::bpf_prog_load) bpf_prog_load;
  decltype(&::bpf_link_create) bpf_link_create;
};

// Loads both libraries once (libxdp.so.1 and libbpf.so.1, or the paths in
// DEMI_CATPOWDER_LIBXDP / DEMI_CATPOWDER_LIBBPF). Throws demi::Error ENOTSUP
// naming the library that is missing and how to install it.
const XdpLibs& LoadXdpLibs();

}  // namespace catpowder
