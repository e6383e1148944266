#include "apps/common/flags.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "engine/error.h"

namespace cfgan {

Flags::Flags(int argc, char** argv, std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      want_help_ = true;
      continue;
    }
    CFGAN_CHECK(arg.rfind("--", 0) == 0 && arg.size() > 2, "unexpected argument '", arg,
                "' (flags look like --name value; see --help)");
    const size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      values_[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
    } else if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
      values_[arg.substr(2)] = argv[++i];
    } else {
      values_[arg.substr(2)] = "true";
    }
  }
}

std::string Flags::raw(const std::string& name, const std::string& fallback, const std::string& help) {
  help_.emplace_back(name, help + (fallback.empty() ? "" : " [" + fallback + "]"));
  std::string value = fallback;
  if (auto d = defaults_.find(name); d != defaults_.end()) value = d->second;
  if (auto v = values_.find(name); v != values_.end()) value = v->second;
  effective_[name] = value;
  return value;
}

std::string Flags::get(const std::string& name, const std::string& fallback, const std::string& help) {
  return raw(name, fallback, help);
}

int64_t Flags::get_int(const std::string& name, int64_t fallback, const std::string& help) {
  const std::string text = raw(name, std::to_string(fallback), help);
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  CFGAN_CHECK(used == text.size() && !text.empty(), "--", name, ": expected an integer, got '", text, "'");
  return value;
}

double Flags::get_double(const std::string& name, double fallback, const std::string& help) {
  std::ostringstream shown;
  shown << fallback;
  const std::string text = raw(name, shown.str(), help);
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  CFGAN_CHECK(used == text.size() && !text.empty(), "--", name, ": expected a number, got '", text, "'");
  return value;
}

bool Flags::get_bool(const std::string& name, const std::string& help) {
  const std::string text = raw(name, "false", help);
  CFGAN_CHECK(text == "true" || text == "false", "--", name, ": takes no value (got '", text, "')");
  return text == "true";
}

std::vector<int32_t> Flags::get_int_list(const std::string& name, const std::string& help) {
  const std::string text = raw(name, "", help);
  std::vector<int32_t> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    size_t used = 0;
    int32_t v = 0;
    try {
      v = static_cast<int32_t>(std::stol(item, &used));
    } catch (const std::exception&) {
      used = 0;
    }
    CFGAN_CHECK(!item.empty() && used == item.size(), "--", name, ": expected integers separated by commas, got '",
                text, "'");
    out.push_back(v);
  }
  return out;
}

std::vector<std::string> Flags::get_list(const std::string& name, const std::string& fallback,
                                         const std::string& help) {
  const std::string text = raw(name, fallback, help);
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    CFGAN_CHECK(!item.empty(), "--", name, ": expected names separated by commas, got '", text, "'");
    out.push_back(item);
  }
  return out;
}

void Flags::set_defaults(const std::map<std::string, std::string>& values) { defaults_ = values; }

void Flags::finish() {
  if (want_help_) {
    std::printf("%s — %s\n\nflags:\n", program_.c_str(), summary_.c_str());
    for (const auto& [name, help] : help_) std::printf("  --%-18s %s\n", name.c_str(), help.c_str());
    std::exit(0);
  }
  for (const auto& [name, value] : values_) {
    CFGAN_CHECK(effective_.count(name), "unknown flag --", name, " (see ", program_, " --help)");
  }
}

}  // namespace cfgan
