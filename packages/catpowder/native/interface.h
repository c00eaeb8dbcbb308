// The Linux interface a device runs on: index, MAC, MTU, whether it is up.
#pragma once

#include <cstdint>
#include <string>

namespace catpowder {

struct InterfaceInfo {
  std::string name;
  int index = 0;
  uint8_t mac[6] = {0, 0, 0, 0, 0, 0};
  uint32_t mtu = 1500;
};

// Looks up by name, or by index when name is empty, in this thread's network
// namespace. Throws demi::Error (ENODEV, ENETDOWN, EINVAL) with what to do.
InterfaceInfo LookupInterface(const std::string& name, int index);

}  // namespace catpowder
