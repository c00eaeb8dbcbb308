#include "sys_error.h"

#include <demi/errno_name.h>

#include <cstring>

namespace catpowder {

const char* ErrnoName(int err) { return demi::ErrnoName(err); }

std::string ErrnoText(int err) {
  char buf[128];
  buf[0] = '\0';
  // GNU strerror_r returns the message pointer (maybe not buf).
  const char* text = strerror_r(err, buf, sizeof buf);
  return text != nullptr ? std::string(text) : std::string(buf);
}

}  // namespace catpowder
