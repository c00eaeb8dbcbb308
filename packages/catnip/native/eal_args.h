// Checks on EAL arguments before they reach rte_eal_init, which parses them with
// getopt and calls exit() for --help: any spelling that could ask for help
// (-h, a short-option cluster containing h, --he..., --log-level=help) is
// refused, so a config file can never end the process.
#pragma once

#include <string>
#include <vector>

namespace catnip {

constexpr size_t kMaxEalArgs = 256;
constexpr size_t kMaxEalArgLength = 4096;

// Throws CatnipError(EINVAL) naming the offending argument.
void ValidateEalArgs(const std::vector<std::string>& args);

// The device arguments of every --vdev, in order ("net_memif0,role=server").
std::vector<std::string> VdevArgs(const std::vector<std::string>& args);

// The arguments other than argv[0] and --vdev options, which must match when a
// second catnip instance joins an EAL that is already running.
std::vector<std::string> NonVdevArgs(const std::vector<std::string>& args);

// "net_memif0" from "net_memif0,role=server".
std::string DeviceName(const std::string& devargs);

}  // namespace catnip
