#include "eal_args.h"

#include <cerrno>
#include <cstring>

#include "error.h"

namespace catnip {

namespace {

// EAL short options that take a value (rte_eal 22.11: "a:b:c:d:hl:m:n:r:s:S:v").
bool ShortTakesValue(char c) { return std::strchr("abcdlmnrsS", c) != nullptr; }

bool IsPrefixOf(const std::string& part, const char* whole) {
  return !part.empty() && std::strncmp(whole, part.c_str(), part.size()) == 0;
}

[[noreturn]] void Refuse(const std::string& arg, const std::string& why) {
  throw CatnipError(EINVAL, "rte_eal_init", "refused EAL argument \"" + arg + "\": " + why);
}

// Splits "--name=value" into name and whether a value was attached.
std::string LongName(const std::string& arg, std::string* value, bool* has_value) {
  size_t eq = arg.find('=');
  *has_value = eq != std::string::npos;
  *value = *has_value ? arg.substr(eq + 1) : "";
  return arg.substr(2, *has_value ? eq - 2 : std::string::npos);
}

}  // namespace

void ValidateEalArgs(const std::vector<std::string>& args) {
  if (args.empty()) {
    throw CatnipError(EINVAL, "rte_eal_init",
                      "EAL arguments must hold at least argv[0] (a program name)");
  }
  if (args.size() > kMaxEalArgs) {
    throw CatnipError(EINVAL, "rte_eal_init",
                      "at most " + std::to_string(kMaxEalArgs) + " EAL arguments");
  }
  for (const std::string& arg : args) {
    if (arg.size() > kMaxEalArgLength)
      Refuse(arg.substr(0, 40) + "...", "longer than 4096 characters");
    if (arg.find('\0') != std::string::npos) Refuse(arg, "contains a NUL character");
  }
  for (size_t i = 1; i < args.size(); i++) {
    const std::string& arg = args[i];
    if (arg == "--") break;  // the rest belongs to the application, not the EAL
    if (arg.size() > 2 && arg[0] == '-' && arg[1] == '-') {
      std::string value;
      bool has_value = false;
      std::string name = LongName(arg, &value, &has_value);
      // getopt_long accepts any unambiguous prefix, so "--he" is --help.
      if (name.size() >= 2 && IsPrefixOf(name, "help"))
        Refuse(arg, "--help prints usage and exits the process");
      if (name.size() >= 2 && IsPrefixOf(name, "log-level")) {
        const std::string& level = has_value ? value : (i + 1 < args.size() ? args[i + 1] : "");
        if (level.find("help") != std::string::npos)
          Refuse(arg, "--log-level=help prints and exits the process");
      }
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      for (size_t k = 1; k < arg.size(); k++) {
        char c = arg[k];
        if (c == 'h') Refuse(arg, "-h prints usage and exits the process");
        if (ShortTakesValue(c)) {
          if (k + 1 == arg.size()) i++;  // the value is the next argument
          break;
        }
      }
    }
  }
}

std::vector<std::string> VdevArgs(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 1; i < args.size(); i++) {
    const std::string& arg = args[i];
    if (arg == "--") break;
    if (arg == "--vdev") {
      if (i + 1 < args.size()) out.push_back(args[++i]);
    } else if (arg.rfind("--vdev=", 0) == 0) {
      out.push_back(arg.substr(7));
    }
  }
  return out;
}

std::vector<std::string> NonVdevArgs(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 1; i < args.size(); i++) {
    const std::string& arg = args[i];
    if (arg == "--vdev") {
      i++;
    } else if (arg.rfind("--vdev=", 0) != 0) {
      out.push_back(arg);
    }
  }
  return out;
}

std::string DeviceName(const std::string& devargs) { return devargs.substr(0, devargs.find(',')); }

}  // namespace catnip
