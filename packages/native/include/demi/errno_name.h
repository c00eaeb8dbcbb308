// The name of a Linux errno as demi's DemiError.code spells it. Shared by every
// addon (tools/addon/demi-addon.cmake puts this directory on the include path).
#pragma once

#include <cerrno>
#include <cstring>

namespace demi {

// glibc's name ("ECONNREFUSED"), except 95, which glibc calls EOPNOTSUPP and the
// contract calls ENOTSUP. nullptr for a number glibc does not name.
inline const char* ErrnoName(int err) {
  if (err == ENOTSUP) return "ENOTSUP";
  return strerrorname_np(err);
}

}  // namespace demi
