#include "xdp_libs.h"

#include <demi/error.h>
#include <dlfcn.h>

#include <cerrno>
#include <cstdlib>
#include <string>

// glibc 2.34 moved dlopen and friends from libdl into libc under a new symbol
// version; binding the original versions keeps the addon loadable on glibc
// 2.28 (Node's baseline), where libdl (which Node itself links) provides them.
#if defined(__GLIBC__) && defined(__x86_64__)
__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dlerror,dlerror@GLIBC_2.2.5");
#elif defined(__GLIBC__) && defined(__aarch64__)
__asm__(".symver dlopen,dlopen@GLIBC_2.17");
__asm__(".symver dlsym,dlsym@GLIBC_2.17");
__asm__(".symver dlerror,dlerror@GLIBC_2.17");
#endif

namespace catpowder {

namespace {

constexpr const char* kInstall =
    "install it with: apt-get install -y libxdp1 libbpf1 (or use raw_socket.mode: af_packet)";

void* Open(const char* env_var, const char* soname, const char* package) {
  const char* override_path = std::getenv(env_var);
  const char* path = override_path != nullptr && *override_path != '\0' ? override_path : soname;
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    demi::Fail(ENOTSUP, "dlopen",
               std::string("AF_XDP needs ") + soname + " (" + package +
                   "), which cannot be loaded" + " from " + path + ": " +
                   (why != nullptr ? why : "unknown error") + "; " + kInstall);
  }
  return handle;
}

template <typename Fn>
void Resolve(void* handle, const char* soname, const char* name, Fn* out) {
  void* sym = dlsym(handle, name);
  if (sym == nullptr) {
    demi::Fail(ENOTSUP, "dlsym",
               std::string("AF_XDP needs ") + name + " from " + soname +
                   ", which this version of the library lacks; " + kInstall);
  }
  *out = reinterpret_cast<Fn>(sym);
}

}  // namespace

const XdpLibs& LoadXdpLibs() {
  // The JS thread is the only caller. A failed load is tried again next time
  // (the library may have been installed since); a loaded one stays loaded.
  static XdpLibs libs;
  static bool loaded = false;
  if (loaded) return libs;
  void* bpf = Open("DEMI_CATPOWDER_LIBBPF", "libbpf.so.1", "libbpf1");
  void* xdp = Open("DEMI_CATPOWDER_LIBXDP", "libxdp.so.1", "libxdp1");
  XdpLibs l{};
  Resolve(xdp, "libxdp.so.1", "xsk_umem__create", &l.xsk_umem__create);
  Resolve(xdp, "libxdp.so.1", "xsk_umem__delete", &l.xsk_umem__delete);
  Resolve(xdp, "libxdp.so.1", "xsk_socket__create", &l.xsk_socket__create);
  Resolve(xdp, "libxdp.so.1", "xsk_socket__delete", &l.xsk_socket__delete);
  Resolve(xdp, "libxdp.so.1", "xsk_socket__fd", &l.xsk_socket__fd);
  Resolve(bpf, "libbpf.so.1", "bpf_map_create", &l.bpf_map_create);
  Resolve(bpf, "libbpf.so.1", "bpf_map_update_elem", &l.bpf_map_update_elem);
  Resolve(bpf, "libbpf.so.1", "bpf_prog_load", &l.bpf_prog_load);
  Resolve(bpf, "libbpf.so.1", "bpf_link_create", &l.bpf_link_create);
  libs = l;
  loaded = true;
  return libs;
}

}  // namespace catpowder
